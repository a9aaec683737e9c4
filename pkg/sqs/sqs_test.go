package sqs

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/digital-citizenship/functions/pkg/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

type event struct {
	ID   string `json:"id"`
	Fail bool   `json:"fail"`
}

func (e event) Valid() bool { return e.ID != "" }

func TestBackoffSeconds(t *testing.T) {
	for n, want := range map[int]int32{1: 1, 2: 2, 3: 3, 4: 5, 5: 10, 10: 292, 17: 37356, 18: 43200, 30: 43200, 99: 43200} {
		if got := BackoffSeconds(n); got != want {
			t.Errorf("BackoffSeconds(%d) = %d, want %d", n, got, want)
		}
	}
}

func receive(t *testing.T, c *sqs.Client, url string, wait int32) []types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
		WaitTimeSeconds: wait, MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

func TestQueueAndConsumer(t *testing.T) {
	cfg, st := awstest.Stack(t)
	c := sqs.NewFromConfig(cfg)
	url := st.Refs["CreatedMessagesQueue"]
	q := Queue{API: c, URL: url}
	ctx := context.Background()
	if n, err := (Backlog{API: c, URL: url}).Visible(ctx); n != 0 || err != nil {
		t.Fatalf("backlog of an empty queue: %d, %v", n, err)
	}
	for _, ev := range []event{{ID: "ok"}, {ID: "retry", Fail: true}, {}} {
		if err := q.Send(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := (Backlog{API: c, URL: url}).Visible(ctx); n != 3 || err != nil {
		t.Fatalf("backlog: %d, %v; want 3", n, err)
	}
	msgs := receive(t, c, url, 1)
	if len(msgs) != 3 {
		t.Fatalf("received %d messages, want 3", len(msgs))
	}
	var batch events.SQSEvent
	for _, m := range msgs {
		batch.Records = append(batch.Records, events.SQSMessage{MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle,
			Body: *m.Body, Attributes: m.Attributes})
	}
	var handled []string
	cons := Consumer[event]{API: c, QueueURL: url, Log: slog.Default(), Handle: func(_ context.Context, e event) error {
		handled = append(handled, e.ID)
		if e.Fail {
			return errors.New("transient")
		}
		return nil
	}}
	resp, err := cons.HandleBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(handled) != 2 || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("handled %v, failures %+v", handled, resp.BatchItemFailures)
	}
	var retryID string
	for _, m := range msgs {
		if *m.Body == `{"id":"retry","fail":true}` {
			retryID = *m.MessageId
		}
	}
	if resp.BatchItemFailures[0].ItemIdentifier != retryID {
		t.Fatalf("failure %s, want %s", resp.BatchItemFailures[0].ItemIdentifier, retryID)
	}
	// The failed record was delayed by BackoffSeconds(1) = 1 s, not the
	// queue's 180 s visibility timeout: it comes back within seconds.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range receive(t, c, url, 1) {
			if aws.ToString(m.MessageId) == retryID {
				if m.Attributes["ApproximateReceiveCount"] != "2" {
					t.Fatalf("receive count %s", m.Attributes["ApproximateReceiveCount"])
				}
				return
			}
		}
	}
	t.Fatal("the failed record did not come back after its back-off")
}
