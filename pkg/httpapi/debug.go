package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/services"
)

// secretHeader reports whether a header may carry a secret; debug never
// echoes those (the original echoed every header, keys included).
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"key", "authorization", "cookie", "token", "secret", "signature", "credential"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// Debug is the debug operation at path (/api/v1/debug or /adm/debug), for
// GET and POST: it shows the caller as the platform sees it.
func Debug(svcs services.Store, method, path string) Operation {
	return Operation{method, path, public(svcs, []auth.Group{auth.DebugRead}, func(w http.ResponseWriter, r request) error {
		raw, err := readBody(r.Request)
		if err != nil {
			return err
		}
		var body any = map[string]any{}
		if len(raw) > 0 {
			if json.Unmarshal(raw, &body) != nil {
				body = string(raw)
			}
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		headers := map[string]string{}
		for k, v := range r.Header {
			if !secretHeader(k) {
				headers[strings.ToLower(k)] = strings.Join(v, ", ")
			}
		}
		params := map[string]string{}
		for k, v := range r.URL.Query() {
			params[k] = strings.Join(v, ",")
		}
		groups := make([]string, len(r.Caller.Groups))
		for i, g := range r.Caller.Groups {
			groups[i] = string(g)
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"auth": map[string]any{"groups": groups, "kind": "IAzureApiAuthorization",
				"subscriptionId": r.Caller.SubscriptionID, "userId": r.Caller.UserID},
			"body":    body,
			"headers": headers,
			"params":  params,
			"user":    map[string]any{"email": r.Caller.Email, "kind": "IAzureUserAttributes", "service": r.Service.AdminView()},
		})
		return nil
	})}
}
