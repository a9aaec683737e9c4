package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/time/rate"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/sam"
)

// route is one API event of template.yaml bound to its function.
type route struct {
	sam.Route
	segments []string
	fn       *runtime
}

// api emulates the API Gateway REST API of template.yaml: routing, the
// REQUEST authorizer with its answers cached per key for the template's TTL,
// the proxy integration with the template's gateway responses, and the part
// of API Gateway's management API the functions call: the authorizer-cache
// flush is served here, the rest (usage plans, API keys) is passed on to the
// emulator.
type api struct {
	routes     []route
	functions  map[string]*runtime // by logical id
	authorizer *runtime
	authCache  *authorizerCache
	gateway    map[string]string // gateway response type -> body
	// gatewayHeaders are the headers of each gateway response type, as
	// its ResponseParameters set them.
	gatewayHeaders map[string]map[string]string
	// cors holds the preflight answer's headers (the template's Api Cors).
	cors map[string]string
	// control passes API Gateway management calls on to the emulator.
	control http.Handler
	// local serves the local stack's own controls under /_local/.
	local http.Handler
	// throttle is the usage plan's throttling (nil: none).
	throttle *throttle
	logs     *log.Logger
}

// throttle is a usage plan's throttling as API Gateway applies it: a token
// bucket per subscription (its usage key), refilled at the plan's
// RateLimit per second up to its BurstLimit.
type throttle struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	by    map[string]*rate.Limiter
}

func (t *throttle) allow(subscription string) bool {
	t.mu.Lock()
	l := t.by[subscription]
	if l == nil {
		l = rate.NewLimiter(t.rate, t.burst)
		t.by[subscription] = l
	}
	t.mu.Unlock()
	return l.Allow()
}

// authorizerCache holds the authorizer's answers per key value, as API
// Gateway does with Identity.Headers and ReauthorizeEvery.
type authorizerCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	answers map[string]cachedAnswer
	hits    int
	misses  int
}

type cachedAnswer struct {
	context map[string]any
	refusal string
	status  int
	expires time.Time
}

func (c *authorizerCache) get(key string) (cachedAnswer, bool) {
	if c.ttl <= 0 {
		return cachedAnswer{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.answers[key]
	if ok && time.Now().Before(a.expires) {
		c.hits++
		return a, true
	}
	c.misses++
	return cachedAnswer{}, false
}

func (c *authorizerCache) put(key string, a cachedAnswer) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a.expires = time.Now().Add(c.ttl)
	c.answers[key] = a
}

func (c *authorizerCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answers = map[string]cachedAnswer{}
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if name, ok := strings.CutPrefix(r.URL.Path, invokePrefix); ok && r.Method == http.MethodPost {
		status := a.invokeDirect(w, r, strings.TrimSuffix(name, "/invocations"))
		a.logs.Printf("invoke %s -> %d (%d ms)", name, status, time.Since(start).Milliseconds())
		return
	}
	if strings.HasPrefix(r.URL.Path, "/_local/") && a.local != nil {
		a.local.ServeHTTP(w, r)
		a.logs.Printf("local %s %s", r.Method, r.URL.Path)
		return
	}
	if a.serveControl(w, r) {
		a.logs.Printf("apigateway %s %s (%d ms)", r.Method, r.URL.Path, time.Since(start).Milliseconds())
		return
	}
	rt, params, allowed := a.match(r.Method, r.URL.Path)
	status := a.serve(w, r, rt, params, allowed)
	name := r.URL.Path
	if rt != nil {
		name = rt.Path // the route, not the path: paths carry fiscal codes
	} else {
		name = "(no route)"
	}
	a.logs.Printf("api %s %s -> %d (%d ms)", r.Method, name, status, time.Since(start).Milliseconds())
}

func (a *api) serve(w http.ResponseWriter, r *http.Request, rt *route, params map[string]string, allowed []string) int {
	if rt == nil && r.Method == http.MethodOptions && len(allowed) > 0 && len(a.cors) > 0 {
		for k, v := range a.cors {
			w.Header().Set(k, v)
		}
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	}
	if rt == nil {
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			return a.problem(w, http.StatusMethodNotAllowed, "Method not allowed",
				r.Method+" is not allowed here; use "+strings.Join(allowed, ", ")+".")
		}
		return a.respond(w, "MISSING_AUTHENTICATION_TOKEN", http.StatusNotFound)
	}
	body, err := readAll(r)
	if err != nil {
		return a.problem(w, http.StatusBadRequest, "Invalid request", "The request body could not be read.")
	}
	ev := a.proxyEvent(r, rt, params, body)
	if !rt.Anonymous {
		authCtx, refusal, status := a.authorize(r.Context(), ev)
		if refusal != "" {
			return a.respond(w, refusal, status)
		}
		if a.throttle != nil && !a.throttle.allow(fmt.Sprint(authCtx["subscriptionId"])) {
			return a.respond(w, "THROTTLED", http.StatusTooManyRequests)
		}
		ev.RequestContext.Authorizer = authCtx
	}
	payload, _ := json.Marshal(ev)
	// API Gateway gives up on an integration after 29 s, whatever the
	// function's timeout; the function's own timeout is usually shorter.
	ictx, cancel := context.WithTimeout(r.Context(), integrationTimeout)
	defer cancel()
	out, err := rt.fn.invoke(ictx, payload)
	var resp events.APIGatewayProxyResponse
	if err == nil {
		err = json.Unmarshal(out, &resp)
	}
	switch {
	case isTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		a.logs.Printf("api %s timed out: %v", rt.fn.name, err)
		return a.respond(w, "INTEGRATION_TIMEOUT", http.StatusGatewayTimeout)
	case err != nil || resp.StatusCode == 0:
		a.logs.Printf("api %s failed: %v", rt.fn.name, err)
		return a.respond(w, "INTEGRATION_FAILURE", http.StatusBadGateway)
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		w.Header()[http.CanonicalHeaderKey(k)] = vs
	}
	data := []byte(resp.Body)
	if resp.IsBase64Encoded {
		data, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(data)
	return resp.StatusCode
}

// integrationTimeout is API Gateway's limit for an integration.
const integrationTimeout = 29 * time.Second

// flushPath is API Gateway's FlushStageAuthorizersCache.
var flushPath = regexp.MustCompile(`^/restapis/[^/]+/stages/[^/]+/cache/authorizers$`)

// serveControl serves API Gateway's management API for the functions
// (AWS_ENDPOINT_URL_API_GATEWAY points here): the authorizer-cache flush
// itself, anything else through the emulator. It reports whether the
// request was one.
func (a *api) serveControl(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.Method == http.MethodDelete && flushPath.MatchString(r.URL.Path):
		a.authCache.flush()
		w.WriteHeader(http.StatusAccepted)
		return true
	case a.control != nil && (strings.HasPrefix(r.URL.Path, "/restapis") || strings.HasPrefix(r.URL.Path, "/usageplans") ||
		strings.HasPrefix(r.URL.Path, "/apikeys")):
		a.control.ServeHTTP(w, r)
		return true
	}
	return false
}

// invokePrefix is the path of Lambda's Invoke API, which the local stack
// also serves: aws lambda invoke --endpoint-url http://127.0.0.1:3000 ...
const invokePrefix = "/2015-03-31/functions/"

// invokeDirect runs one function with the request body as its event and
// answers as Lambda's Invoke API does (a function error is a 200 with
// X-Amz-Function-Error).
func (a *api) invokeDirect(w http.ResponseWriter, r *http.Request, name string) int {
	rt := a.functions[name]
	if rt == nil {
		return a.problem(w, http.StatusNotFound, "Function not found", "There is no function "+name+" in template.yaml.")
	}
	payload, err := readAll(r)
	if err != nil {
		return a.problem(w, http.StatusBadRequest, "Invalid request", "The payload could not be read.")
	}
	out, err := rt.invoke(r.Context(), payload)
	var fe *functionError
	if errors.As(err, &fe) {
		out, _ = json.Marshal(fe)
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	} else if err != nil {
		return a.problem(w, http.StatusInternalServerError, "Invocation failed", err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
	return http.StatusOK
}

// match finds the most specific route for path; when the path matches only
// with other methods, it returns those.
func (a *api) match(method, path string) (*route, map[string]string, []string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *route
	var bestParams map[string]string
	bestScore := -1
	var allowed []string
	for i := range a.routes {
		rt := &a.routes[i]
		params, score, ok := matchSegments(rt.segments, segs)
		if !ok {
			continue
		}
		if rt.Method != method && rt.Method != "ANY" {
			allowed = append(allowed, rt.Method)
			continue
		}
		if score > bestScore {
			best, bestParams, bestScore = rt, params, score
		}
	}
	return best, bestParams, allowed
}

// matchSegments matches a template path ({name} is one segment, {name+} the
// rest) and scores it by its literal segments.
func matchSegments(tmpl, segs []string) (map[string]string, int, bool) {
	params := map[string]string{}
	score := 0
	for i, t := range tmpl {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "+}") {
			params[t[1:len(t)-2]] = strings.Join(segs[i:], "/")
			return params, score, i < len(segs)
		}
		if i >= len(segs) || segs[i] == "" {
			return nil, 0, false
		}
		if strings.HasPrefix(t, "{") {
			params[t[1:len(t)-1]] = segs[i]
			continue
		}
		if t != segs[i] {
			return nil, 0, false
		}
		score++
	}
	return params, score, len(tmpl) == len(segs)
}

func (a *api) proxyEvent(r *http.Request, rt *route, params map[string]string, body []byte) events.APIGatewayProxyRequest {
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	ev := events.APIGatewayProxyRequest{
		Resource: rt.Path, Path: r.URL.Path, HTTPMethod: r.Method,
		Headers: map[string]string{}, MultiValueHeaders: map[string][]string{},
		QueryStringParameters: map[string]string{}, MultiValueQueryStringParameters: map[string][]string{},
		PathParameters: params, Body: string(body),
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID: "123456789012", ResourceID: "local", Stage: "local", RequestID: ids.ULID(time.Now()),
			Identity:     events.APIGatewayRequestIdentity{SourceIP: ip, UserAgent: r.UserAgent()},
			ResourcePath: rt.Path, HTTPMethod: r.Method, APIID: "local", Path: r.URL.Path,
			RequestTimeEpoch: time.Now().UnixMilli(),
		},
	}
	for k, vs := range r.Header {
		ev.Headers[k] = vs[len(vs)-1]
		ev.MultiValueHeaders[k] = vs
	}
	for k, vs := range r.URL.Query() {
		ev.QueryStringParameters[k] = vs[len(vs)-1]
		ev.MultiValueQueryStringParameters[k] = vs
	}
	return ev
}

// authorize runs the REQUEST authorizer as API Gateway does: a missing key
// header is a 401 without calling it; "Unauthorized" is a 401; a Deny is a
// 403; any other failure a 500. A refusal names its gateway response.
func (a *api) authorize(ctx context.Context, ev events.APIGatewayProxyRequest) (map[string]any, string, int) {
	key := headerValue(ev.Headers, apigateway.KeyHeader)
	if key == "" {
		return nil, "UNAUTHORIZED", http.StatusUnauthorized
	}
	if c, ok := a.authCache.get(key); ok {
		return c.context, c.refusal, c.status
	}
	authCtx, refusal, status := a.callAuthorizer(ctx, ev)
	// Allow and Deny are cached; "Unauthorized" and failures are not.
	if refusal == "" || refusal == "ACCESS_DENIED" {
		a.authCache.put(key, cachedAnswer{context: authCtx, refusal: refusal, status: status})
	}
	return authCtx, refusal, status
}

func (a *api) callAuthorizer(ctx context.Context, ev events.APIGatewayProxyRequest) (map[string]any, string, int) {
	req := events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:      "REQUEST",
		MethodArn: fmt.Sprintf("arn:aws:execute-api:%s:123456789012:local/local/%s%s", region, ev.HTTPMethod, ev.Path),
		Resource:  ev.Resource, Path: ev.Path, HTTPMethod: ev.HTTPMethod, Headers: ev.Headers,
		MultiValueHeaders: ev.MultiValueHeaders, QueryStringParameters: ev.QueryStringParameters,
		PathParameters: ev.PathParameters,
		RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
			AccountID: "123456789012", ResourceID: "local", Stage: "local", RequestID: ev.RequestContext.RequestID,
			ResourcePath: ev.Resource, HTTPMethod: ev.HTTPMethod, APIID: "local",
			Identity: events.APIGatewayCustomAuthorizerRequestTypeRequestIdentity{SourceIP: ev.RequestContext.Identity.SourceIP},
		},
	}
	payload, _ := json.Marshal(req)
	out, err := a.authorizer.invoke(ctx, payload)
	if isFunctionError(err, "Unauthorized") {
		return nil, "UNAUTHORIZED", http.StatusUnauthorized
	}
	var resp events.APIGatewayCustomAuthorizerResponse
	if err == nil {
		err = json.Unmarshal(out, &resp)
	}
	if err != nil {
		a.logs.Printf("api authorizer failed: %v", err)
		return nil, "DEFAULT_5XX", http.StatusInternalServerError
	}
	for _, s := range resp.PolicyDocument.Statement {
		if s.Effect != "Allow" {
			return nil, "ACCESS_DENIED", http.StatusForbidden
		}
	}
	ctxMap := map[string]any{"principalId": resp.PrincipalID}
	for k, v := range resp.Context {
		ctxMap[k] = v
	}
	return ctxMap, "", 0
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func (a *api) problem(w http.ResponseWriter, status int, title, detail string) int {
	b, _ := json.Marshal(map[string]any{"detail": detail, "status": status, "title": title})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return status
}

// respond answers with the template's gateway response of kind typ.
func (a *api) respond(w http.ResponseWriter, typ string, status int) int {
	w.Header().Set("Content-Type", "application/problem+json")
	for k, v := range a.gatewayHeaders[typ] {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)
	body := a.gateway[typ]
	if body == "" {
		body = fmt.Sprintf(`{"detail":"%s","status":%d,"title":"%s"}`, http.StatusText(status), status, http.StatusText(status))
	}
	_, _ = w.Write([]byte(body))
	return status
}

func readAll(r *http.Request) ([]byte, error) {
	defer r.Body.Close()
	// API Gateway's payload limit.
	return io.ReadAll(io.LimitReader(r.Body, 10<<20))
}
