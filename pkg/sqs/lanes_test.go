package sqs

import (
	"context"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/awstest"
)

type lanedEvent struct {
	ID      string `json:"id"`
	Lane    string `json:"lane"`
	Service string `json:"service"`
}

func (e lanedEvent) Valid() bool          { return e.ID != "" }
func (e lanedEvent) SendingLane() string  { return e.Lane }
func (e lanedEvent) MessageGroup() string { return e.Service }

// TestLanes: against the template's queues in moto, each event goes to its
// lane's queue (one, a batch, delayed), with its sender as MessageGroupId on
// these standard queues (fair queues in AWS; moto keeps and returns it);
// the lanes' backlog adds up; a consumer of the three delays a retry on the
// queue the record came from.
func TestLanes(t *testing.T) {
	cfg, st := awstest.Stack(t)
	c := sqs.NewFromConfig(cfg)
	env := map[string]string{}
	for _, v := range LaneVars("EMAIL_QUEUE_URL") {
		env[v] = st.Refs[map[string]string{"EMAIL_PRIORITY_QUEUE_URL": "EmailPriorityQueue", "EMAIL_QUEUE_URL": "EmailQueue",
			"EMAIL_BULK_QUEUE_URL": "EmailBulkQueue"}[v]]
	}
	l := LanesOf(c, env, "EMAIL_QUEUE_URL")
	if l.Priority.URL == "" || l.Normal.URL == "" || l.Bulk.URL == "" {
		t.Fatalf("lanes %+v", l)
	}
	ctx := context.Background()
	for _, ev := range []lanedEvent{{"p", "priority", "svc-a"}, {"n", "normal", "svc-a"}, {"x", "", "svc-b"}, {"b", "bulk", "svc-c"}} {
		if err := l.Send(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.SendBatchAfter(ctx, []any{lanedEvent{"b2", "bulk", "svc-c"}, lanedEvent{"p2", "priority", "svc-d"}}, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := (Backlog{API: c, URLs: l.URLs()}).Visible(ctx); n != 6 || err != nil {
		t.Fatalf("the lanes' backlog %d, %v; want 6", n, err)
	}
	want := map[string][]string{l.Priority.URL: {"p", "p2"}, l.Normal.URL: {"n", "x"}, l.Bulk.URL: {"b", "b2"}}
	groups := map[string]string{"p": "svc-a", "n": "svc-a", "x": "svc-b", "b": "svc-c", "b2": "svc-c", "p2": "svc-d"}
	for url, ids := range want {
		msgs := receive(t, c, url, 1)
		if len(msgs) != len(ids) {
			t.Fatalf("%s: %d messages, want %v", url, len(msgs), ids)
		}
		var batch events.SQSEvent
		for _, m := range msgs {
			var got string
			for _, id := range ids {
				if *m.Body == `{"id":"`+id+`","lane":"`+map[string]string{"p": "priority", "p2": "priority", "n": "normal", "x": "", "b": "bulk", "b2": "bulk"}[id]+`","service":"`+groups[id]+`"}` {
					got = id
				}
			}
			if got == "" {
				t.Fatalf("%s: unexpected %s", url, *m.Body)
			}
			if g := m.Attributes["MessageGroupId"]; g != groups[got] {
				t.Errorf("%s: MessageGroupId %q, want %q", got, g, groups[got])
			}
			batch.Records = append(batch.Records, events.SQSMessage{MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle,
				Body: *m.Body, Attributes: m.Attributes, EventSourceARN: st.Attrs[arnOf(st.Refs, url)+".Arn"]})
		}
		// Every record fails once: its retry is delayed on its own queue
		// (a receipt handle of another queue would be refused).
		cons := Consumer[lanedEvent]{API: c, QueueURLs: l.URLs(), Log: slog.Default(),
			Handle: func(context.Context, lanedEvent) error { return context.DeadlineExceeded }}
		resp, _ := cons.HandleBatch(ctx, batch)
		if len(resp.BatchItemFailures) != len(ids) {
			t.Fatalf("%s: failures %+v", url, resp)
		}
		for _, r := range batch.Records {
			if got := cons.urlOf(r.EventSourceARN); got != url {
				t.Fatalf("record of %s delayed on %s", url, got)
			}
		}
	}
}

// arnOf returns the logical id of the queue at url.
func arnOf(refs map[string]string, url string) string {
	for id, u := range refs {
		if u == url {
			return id
		}
	}
	return ""
}
