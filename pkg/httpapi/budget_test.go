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
// send to AWS (the emulator) on the submit path: the budget is 3.
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
	if err := svcs.Create(context.Background(), services.Service{ServiceID: "svc", ServiceName: "S", OrganizationName: "O",
		DepartmentName: "D", OrganizationFiscalCode: "00000000001", AuthorizedCIDRs: []string{}, AuthorizedRecipients: []string{}}); err != nil {
		t.Fatal(err)
	}
	sub := messages.Submitter{Store: store.NewMessages(db, st.Refs["MessagesTable"]),
		Created: queue.Queue{API: sqs.NewFromConfig(cfg), URL: st.Refs["CreatedMessagesQueue"]}, Now: time.Now}
	mux := httpapi.NewMux(httpapi.SubmitMessage(svcs, sub))
	for _, key := range []string{"", "idem-1"} {
		n.Store(0)
		req := httptest.NewRequest("POST", "/api/v1/messages/"+fc, strings.NewReader(newMessage))
		req.Header.Set(httpapi.IdempotencyHeader, key)
		req = req.WithContext(auth.WithCaller(req.Context(), *caller("svc", auth.MessageWrite)))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != 201 {
			t.Fatalf("submit: %d %s", rec.Code, rec.Body)
		}
		t.Logf("submit (Idempotency-Key %q): %d AWS requests", key, n.Load())
		if n.Load() > 3 {
			t.Fatalf("submit made %d AWS requests, budget 3", n.Load())
		}
	}
}
