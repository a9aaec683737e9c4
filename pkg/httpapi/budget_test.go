package httpapi_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/awstest"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/services"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestSubmitMessage_AWSRequests counts the HTTP requests the real SDK clients
// send to AWS (the emulators) on the submit path: the budget is 2 (store,
// with the day's counter, and enqueue) when the authorizer handed over the
// caller's service, as it does for every service that fits in its context;
// 3 when the service is read, or when the environment reads the day's
// counters (its first submission of a service's day, then at most once a
// second; the clock stands still here).
func TestSubmitMessage_AWSRequests(t *testing.T) {
	cfg, st := awstest.Stack(t)
	var n atomic.Int32
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("count", func(ctx context.Context, in middleware.FinalizeInput,
			next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			n.Add(1) // after retries: once per request sent
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	})
	db := dynamodb.NewFromConfig(cfg)
	svcs := store.NewServices(db, st.Refs["ServicesTable"])
	svc := services.Service{ServiceID: "svc", ServiceName: "S", OrganizationName: "O",
		DepartmentName: "D", OrganizationFiscalCode: "00000000001", AuthorizedCIDRs: []string{}, AuthorizedRecipients: []string{}}
	if err := svcs.Create(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	msgs := store.NewMessages(db, st.Refs["MessagesTable"])
	now := time.Now()
	sub := messages.CountedSubmitter{Quotas: msgs, Submitter: messages.Submitter{Store: msgs,
		Created: queue.Queue{API: sqs.NewFromConfig(cfg), URL: st.Refs["CreatedMessagesQueue"]}, Now: func() time.Time { return now }}}
	mux := httpapi.NewMux(httpapi.SubmitMessage(svcs, sub))
	for _, tc := range []struct {
		key       string
		inContext bool
		budget    int32
	}{
		{"", true, 3}, // the environment's first: it reads the day's counters (then at most once a second)
		{"", true, 2}, {"idem-1", true, 2}, {"", false, 3},
	} {
		key := tc.key
		n.Store(0)
		req := httptest.NewRequest("POST", "/api/v1/messages/"+fc, strings.NewReader(newMessage))
		req.Header.Set(httpapi.IdempotencyHeader, key)
		ctx := auth.WithCaller(req.Context(), *caller("svc", auth.MessageWrite))
		if tc.inContext {
			ctx = services.NewContext(ctx, svc)
		}
		req = req.WithContext(ctx)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != 201 {
			t.Fatalf("submit: %d %s", rec.Code, rec.Body)
		}
		t.Logf("submit (Idempotency-Key %q, service in the authorizer context %v): %d AWS requests", key, tc.inContext, n.Load())
		if rec.Header().Get("RateLimit-Remaining") == "" {
			t.Fatalf("no RateLimit headers: %v", rec.Header())
		}
		if n.Load() > tc.budget {
			t.Fatalf("submit made %d AWS requests, budget %d", n.Load(), tc.budget)
		}
	}
}
