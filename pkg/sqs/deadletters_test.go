package sqs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/digital-citizenship/functions/pkg/awstest"
)

// giveUp sends body to a queue and receives it until the queue's redrive
// policy moves it to its dead-letter queue, as SQS does after
// maxReceiveCount receives by a consumer that keeps failing.
func giveUp(t *testing.T, c *sqs.Client, url, body, group string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body, MessageGroupId: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return
		}
		for _, m := range out.Messages { // failed: visible again at once
			if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
		if i > 40 {
			t.Fatalf("%s kept its message past 40 receives", url)
		}
	}
}

// TestDeadLetters: messages given up on by SQS's own redrive (moto's) are
// listed, shown without personal data, and sent back: a dry run moves
// nothing, --max moves that many, and each message goes back to its lane's
// queue with its body and group.
func TestDeadLetters(t *testing.T) {
	cfg, st := awstest.Stack(t)
	c := sqs.NewFromConfig(cfg)
	ctx := context.Background()
	fc, addr := "RSSMRA80A01H501U", "mario.rossi@example.com"
	callback := `{"id":"evt_1","event":"message.processed","service_id":"svc-a","message_id":"01CB","status":"PROCESSED","at":"2026-12-07T10:00:00.000Z"}`
	bulk := `{"channel":"EMAIL","toAddress":"` + addr + `","content":{"subject":"TARI 2026","markdown":"Gentile cittadino"},` +
		`"message":{"id":"01BULK","fiscalCode":"` + fc + `","senderServiceId":"svc-b","lane":"bulk"}}`
	normal := `{"channel":"EMAIL","toAddress":"` + addr + `","message":{"id":"01NORMAL","fiscalCode":"` + fc + `","senderServiceId":"svc-b"}}`
	giveUp(t, c, st.Refs["CallbacksQueue"], callback, "svc-a")
	giveUp(t, c, st.Refs["EmailBulkQueue"], bulk, "svc-b")
	giveUp(t, c, st.Refs["EmailQueue"], normal, "svc-b")

	d := DeadLetters{API: c, Stack: st.Name}
	qs, err := d.Queues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]DeadLetterQueue{}
	for _, q := range qs {
		byID[q.LogicalID] = q
	}
	if len(qs) != 8 {
		t.Errorf("dead-letter queues: %d, want the template's 8: %v", len(qs), byID)
	}
	cb, email := byID["CallbacksDeadLetterQueue"], byID["EmailDeadLetterQueue"]
	if cb.Messages != 1 || len(cb.Sources) != 1 || d.LogicalID(cb.Sources[0]) != "CallbacksQueue" || cb.Oldest <= 0 {
		t.Errorf("callbacks' dead letters: %+v", cb)
	}
	var sources []string
	for _, u := range email.Sources {
		sources = append(sources, d.LogicalID(u))
	}
	if email.Messages != 2 || !slices.Equal(sources, []string{"EmailBulkQueue", "EmailPriorityQueue", "EmailQueue"}) {
		t.Errorf("e-mail's dead letters: %d, sources %v", email.Messages, sources)
	}
	if q, err := d.Queue(ctx, "Callbacks"); err != nil || q.URL != cb.URL {
		t.Errorf("Queue(Callbacks) = %+v, %v", q, err)
	}
	if _, err := d.Queue(ctx, "Nothing"); err == nil || !strings.Contains(err.Error(), "CallbacksDeadLetterQueue") {
		t.Errorf("an unknown queue: %v", err)
	}

	letters, err := d.Peek(ctx, email, 10)
	if err != nil || len(letters) != 2 {
		t.Fatalf("peek: %v %v", letters, err)
	}
	for _, l := range letters {
		all := strings.Join(l.Fields, " ")
		if strings.Contains(all, fc) || strings.Contains(all, addr) || strings.Contains(all, "TARI") || strings.Contains(all, "Gentile") {
			t.Errorf("personal data shown: %s", all)
		}
		if !strings.Contains(all, "message.id=01") || !strings.Contains(all, "message.senderServiceId=svc-b") || l.Receives < 30 || l.Group != "svc-b" {
			t.Errorf("a letter: %+v", l)
		}
	}

	// A dry run moves nothing and says where each would go.
	r, err := d.Redrive(ctx, email, RedriveOptions{DryRun: true})
	if err != nil || r.Moved != 2 || r.To[st.Name+"-EmailBulkQueue"] != 1 || r.To[st.Name+"-EmailQueue"] != 1 {
		t.Fatalf("dry run: %+v %v", r, err)
	}
	if got, _ := d.Queue(ctx, "EmailDeadLetterQueue"); got.Messages != 2 {
		t.Fatalf("after the dry run: %d messages", got.Messages)
	}
	// --max 1, then the rest (moto has no move task: the loop).
	var progress []int
	if r, err = d.Redrive(ctx, email, RedriveOptions{Max: 1, Progress: func(n, _ int) { progress = append(progress, n) }}); err != nil || r.Moved != 1 || !slices.Equal(progress, []int{1}) {
		t.Fatalf("--max 1: %+v %v %v", r, err, progress)
	}
	if r, err = d.Redrive(ctx, email, RedriveOptions{}); err != nil || r.Moved != 1 || r.Native {
		t.Fatalf("the rest: %+v %v", r, err)
	}
	if r, err = d.Redrive(ctx, cb, RedriveOptions{}); err != nil || r.Moved != 1 {
		t.Fatalf("the callback: %+v %v", r, err)
	}
	for id, want := range map[string]string{"EmailBulkQueue": bulk, "EmailQueue": normal, "CallbacksQueue": callback} {
		got := receive(t, c, st.Refs[id], 1)
		if len(got) != 1 || aws.ToString(got[0].Body) != want || got[0].Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)] != "1" ||
			got[0].Attributes[string(types.MessageSystemAttributeNameMessageGroupId)] == "" {
			t.Errorf("%s after the redrive: %+v", id, got)
		}
	}
	if qs, _ = d.Queues(ctx); slices.ContainsFunc(qs, func(q DeadLetterQueue) bool { return q.Messages > 0 }) {
		t.Errorf("dead letters left: %+v", qs)
	}
	// A queue that is no one's dead-letter queue has nowhere to send back to.
	if _, err := d.Redrive(ctx, DeadLetterQueue{LogicalID: "X"}, RedriveOptions{}); err == nil {
		t.Error("a redrive with no source queue")
	}
}

func TestFields(t *testing.T) {
	got := fields("", map[string]any{"kind": "ProfileCreatedEvent", "fiscalCode": "RSSMRA80A01H501U", "version": 2.0,
		"devices": []any{map[string]any{"token": "abc"}}, "message": map[string]any{"id": "01A", "subject": "x"}}, nil)
	if want := []string{"kind=ProfileCreatedEvent", "message.id=01A", "version=2"}; !slices.Equal(got, want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
}

// TestRedriveMoveTask: on SQS's own endpoint a full redrive is SQS's move
// task, followed until it completes (moto has no move tasks: this runs
// against a stand-in speaking SQS's JSON protocol).
func TestRedriveMoveTask(t *testing.T) {
	var calls []string
	polls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
		body, _ := io.ReadAll(r.Body)
		calls = append(calls, op+" "+string(body))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		switch op {
		case "StartMessageMoveTask":
			fmt.Fprint(w, `{"TaskHandle":"task-1"}`)
		case "ListMessageMoveTasks":
			polls++
			status, moved := "RUNNING", 1
			if polls > 1 {
				status, moved = "COMPLETED", 3
			}
			fmt.Fprintf(w, `{"Results":[{"Status":%q,"ApproximateNumberOfMessagesMoved":%d,"ApproximateNumberOfMessagesToMove":3}]}`, status, moved)
		default:
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"__type":"InvalidAction","message":"%s"}`, op)
		}
	}))
	defer srv.Close()
	d := DeadLetters{API: sqs.NewFromConfig(awstest.Config(srv.URL)), Stack: "s", MoveTasks: true}
	q := DeadLetterQueue{LogicalID: "CallbacksDeadLetterQueue", ARN: "arn:aws:sqs:eu-south-1:1:s-CallbacksDeadLetterQueue", Messages: 3,
		Sources: []string{srv.URL + "/1/s-CallbacksQueue"}}
	var progress []int
	r, err := d.Redrive(context.Background(), q, RedriveOptions{Progress: func(n, _ int) { progress = append(progress, n) }})
	if err != nil || !r.Native || r.Moved != 3 || r.TaskHandle != "task-1" || !slices.Equal(progress, []int{1, 3}) {
		t.Fatalf("redrive: %+v %v %v", r, err, progress)
	}
	if len(calls) != 3 || !strings.Contains(calls[0], `"SourceArn":"`+q.ARN+`"`) || strings.Contains(calls[0], "DestinationArn") {
		t.Errorf("calls: %v", calls)
	}
}
