package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// DeadLetters is the operator's view of a stack's dead-letter queues
// (dcp dlq): what is in them, and sending it back to the queues it came
// from. It reads no personal data out of a message: Letter keeps only
// identifiers.
type DeadLetters struct {
	API *sqs.Client
	// Stack is the prefix of the stack's queue names: CloudFormation names
	// a queue <stack>-<LogicalId>-<suffix>, the local stack <stack>-<LogicalId>.
	Stack string
	// MoveTasks is true when the endpoint is SQS's own, which moves
	// messages back itself (StartMessageMoveTask); emulators have no such
	// task (moto answers 500).
	MoveTasks bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// DeadLetterQueue is one dead-letter queue of the stack.
type DeadLetterQueue struct {
	LogicalID string // e.g. CallbacksDeadLetterQueue
	Name, URL string
	ARN       string
	// Messages waiting, and in flight (received by a consumer, not yet deleted).
	Messages, InFlight int
	// Oldest is the age of the oldest message among those looked at (up
	// to 10; since it was first sent to its source queue, as SQS counts a
	// dead letter's retention); zero for an empty queue.
	Oldest time.Duration
	// Sources are the queues that give up on messages into this one.
	Sources []string
}

// Letter is a dead letter as dcp dlq show prints it: identifiers only.
type Letter struct {
	ID            string    // SQS's message id (kept across the move: the consumers log it as sqs_message_id)
	SentAt        time.Time // when it was first sent, to its source queue
	Receives      int       // how many times its consumers received it
	Source        string    // the queue it was given up from, when SQS says so
	Group         string    // its MessageGroupId (the service)
	Fields        []string  // its identifiers: key=value of the allowed keys of its body
	MalformedBody bool      // a body that is not JSON
}

// identifiers are the body keys (at any depth) that dcp dlq show prints:
// ids, kinds, channels, lanes, services and statuses; never a fiscal code,
// an address, a device, a subject or a text.
var identifiers = map[string]bool{
	"id": true, "kind": true, "event": true, "channel": true, "lane": true, "status": true, "reason": true,
	"senderserviceid": true, "serviceid": true, "service_id": true, "message_id": true, "messageid": true,
	"notificationtype": true, "version": true, "attempts": true, "channelkey": true,
}

// Queues lists the stack's dead-letter queues with their depth and age.
func (d DeadLetters) Queues(ctx context.Context) ([]DeadLetterQueue, error) {
	prefix := d.Stack + "-"
	var out []DeadLetterQueue
	p := sqs.NewListQueuesPaginator(d.API, &sqs.ListQueuesInput{QueueNamePrefix: &prefix, MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the stack's queues: %w", err)
		}
		for _, url := range page.QueueUrls {
			name, id := QueueName(url), d.LogicalID(url)
			if !strings.HasSuffix(id, "DeadLetterQueue") || strings.Contains(id, "-") { // not another stack's whose name starts as this one's
				continue
			}
			q, err := d.describe(ctx, DeadLetterQueue{LogicalID: id, Name: name, URL: url})
			if err != nil {
				return nil, err
			}
			out = append(out, q)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out, nil
}

// LogicalID is the logical id of one of the stack's queues, from its URL
// or its name.
func (d DeadLetters) LogicalID(urlOrName string) string {
	return logicalID(strings.TrimPrefix(QueueName(urlOrName), d.Stack+"-"))
}

// logicalID is a queue's logical id from its name without the stack's
// prefix: CloudFormation adds "-<suffix>".
func logicalID(rest string) string {
	if i := strings.LastIndexByte(rest, '-'); i > 0 {
		return rest[:i]
	}
	return rest
}

// Queue finds one dead-letter queue by its logical id, its name or its URL.
func (d DeadLetters) Queue(ctx context.Context, which string) (DeadLetterQueue, error) {
	all, err := d.Queues(ctx)
	if err != nil {
		return DeadLetterQueue{}, err
	}
	var names []string
	for _, q := range all {
		if strings.EqualFold(q.LogicalID, which) || q.Name == which || q.URL == which ||
			strings.EqualFold(strings.TrimSuffix(q.LogicalID, "DeadLetterQueue"), which) {
			return q, nil
		}
		names = append(names, q.LogicalID)
	}
	return DeadLetterQueue{}, fmt.Errorf("no dead-letter queue %q in stack %s (there are: %s)", which, d.Stack, strings.Join(names, ", "))
}

func (d DeadLetters) describe(ctx context.Context, q DeadLetterQueue) (DeadLetterQueue, error) {
	attrs, err := d.API.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &q.URL, AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameQueueArn, types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return q, fmt.Errorf("%s: %w", q.LogicalID, err)
	}
	q.ARN = attrs.Attributes[string(types.QueueAttributeNameQueueArn)]
	q.Messages, _ = strconv.Atoi(attrs.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	q.InFlight, _ = strconv.Atoi(attrs.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	src, err := d.API.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: &q.URL})
	if err != nil {
		return q, fmt.Errorf("%s: its source queues: %w", q.LogicalID, err)
	}
	q.Sources = src.QueueUrls
	sort.Strings(q.Sources)
	if q.Messages > 0 {
		letters, err := d.Peek(ctx, q, 10)
		if err != nil {
			return q, err
		}
		for _, l := range letters {
			q.Oldest = max(q.Oldest, d.now().Sub(l.SentAt))
		}
	}
	return q, nil
}

func (d DeadLetters) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// peekSeconds is how long a peek hides the messages it looked at (so that
// it sees each once); they are made visible again as soon as it is done.
const peekSeconds = 30

// Peek returns up to n of a queue's messages without taking them: they are
// received, then made visible again at once, so they stay available to
// their consumer (a receive counts, but a dead-letter queue has no redrive
// of its own). Messages a consumer holds at that moment are not seen.
func (d DeadLetters) Peek(ctx context.Context, q DeadLetterQueue, n int) ([]Letter, error) {
	var out []Letter
	var held []types.Message
	defer func() { d.release(context.WithoutCancel(ctx), q.URL, held) }()
	for len(out) < n {
		msgs, err := d.receive(ctx, q.URL, int32(min(n-len(out), 10)), peekSeconds)
		if err != nil {
			return nil, err
		}
		if len(msgs) == 0 {
			break
		}
		held = append(held, msgs...)
		for _, m := range msgs {
			out = append(out, letter(m))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SentAt.Before(out[j].SentAt) })
	return out, nil
}

// release makes received messages visible again.
func (d DeadLetters) release(ctx context.Context, url string, msgs []types.Message) {
	for batch := range slices.Chunk(msgs, 10) {
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(batch))
		for i, m := range batch {
			entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		}
		// On failure they come back after peekSeconds anyway.
		_, _ = d.API.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &url, Entries: entries})
	}
}

func (d DeadLetters) receive(ctx context.Context, url string, n, visibility int32) ([]types.Message, error) {
	out, err := d.API.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: max(n, 1),
		VisibilityTimeout: visibility, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	return out.Messages, nil
}

func letter(m types.Message) Letter {
	a := m.Attributes
	l := Letter{ID: aws.ToString(m.MessageId), Source: a[string(types.MessageSystemAttributeNameDeadLetterQueueSourceArn)],
		Group: a[string(types.MessageSystemAttributeNameMessageGroupId)]}
	l.Receives, _ = strconv.Atoi(a[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	if ms, err := strconv.ParseInt(a[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		l.SentAt = time.UnixMilli(ms).UTC()
	}
	var body any
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &body); err != nil {
		l.MalformedBody = true
		return l
	}
	l.Fields = fields("", body, nil)
	return l
}

// fields walks a decoded body and keeps the identifiers' key=value pairs.
func fields(path string, v any, out []string) []string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			switch val := v[k].(type) {
			case string, float64, bool:
				if identifiers[strings.ToLower(k)] {
					out = append(out, fmt.Sprintf("%s=%v", p, val))
				}
			case map[string]any:
				out = fields(p, val, out)
			}
		}
	}
	return out
}

// Lane of a dead letter, from its body ("message.lane", or "lane").
func laneOf(l Letter) string {
	for _, f := range l.Fields {
		if k, v, _ := strings.Cut(f, "="); k == "lane" || strings.HasSuffix(k, ".lane") {
			return v
		}
	}
	return ""
}

// RedriveOptions tell Redrive how much to move.
type RedriveOptions struct {
	// Max moves at most this many messages (0: all of them).
	Max int
	// DryRun moves nothing: it reports where each message would go.
	DryRun bool
	// Progress, when set, is called after each message with how many have
	// moved and how many there were when the redrive started.
	Progress func(moved, total int)
}

// RedriveResult says what Redrive did.
type RedriveResult struct {
	Moved int
	// To counts the messages by destination queue name.
	To map[string]int
	// Native is true when SQS moved them itself (StartMessageMoveTask).
	Native     bool
	TaskHandle string
}

// Redrive sends a dead-letter queue's messages back to the queues they
// came from, where their consumers try them again with a fresh count of
// receives. Without Max or DryRun, and with MoveTasks, it asks SQS to do it
// (StartMessageMoveTask, which returns each message to its own source
// queue) and follows the task; where the endpoint has no such task (an
// emulator), and with Max or DryRun, it receives, sends and deletes, each
// message to the source queue SQS names, or the one of its lane among the
// queue's sources: nothing is deleted before it is sent.
func (d DeadLetters) Redrive(ctx context.Context, q DeadLetterQueue, o RedriveOptions) (RedriveResult, error) {
	if len(q.Sources) == 0 {
		return RedriveResult{}, fmt.Errorf("%s is the dead-letter queue of no queue: nowhere to send its messages", q.LogicalID)
	}
	total := q.Messages
	if o.Max > 0 {
		total = min(total, o.Max)
	}
	if o.Max == 0 && !o.DryRun && d.MoveTasks {
		r, err := d.moveTask(ctx, q, total, o.Progress)
		if !errors.Is(err, errNoMoveTask) {
			return r, err
		}
	}
	return d.loop(ctx, q, total, o)
}

var errNoMoveTask = errors.New("the endpoint has no message move tasks")

// moveTask runs SQS's own redrive and waits for it.
func (d DeadLetters) moveTask(ctx context.Context, q DeadLetterQueue, total int, progress func(int, int)) (RedriveResult, error) {
	out, err := d.API.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: &q.ARN})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && unsupported(api.ErrorCode()) {
			return RedriveResult{}, errNoMoveTask
		}
		return RedriveResult{}, fmt.Errorf("start the move task: %w", err)
	}
	r := RedriveResult{Native: true, TaskHandle: aws.ToString(out.TaskHandle)}
	for {
		tasks, err := d.API.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: &q.ARN, MaxResults: aws.Int32(1)})
		if err != nil {
			return r, fmt.Errorf("follow the move task: %w", err)
		}
		if len(tasks.Results) > 0 {
			t := tasks.Results[0]
			r.Moved = int(t.ApproximateNumberOfMessagesMoved)
			if progress != nil {
				progress(r.Moved, max(total, int(aws.ToInt64(t.ApproximateNumberOfMessagesToMove))))
			}
			switch aws.ToString(t.Status) {
			case "COMPLETED":
				return r, nil
			case "FAILED", "CANCELLED":
				return r, fmt.Errorf("the move task ended %s: %s", aws.ToString(t.Status), aws.ToString(t.FailureReason))
			}
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("stopped following the move task %s (it goes on): %w", r.TaskHandle, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

func unsupported(code string) bool {
	switch code {
	case "InvalidAction", "UnknownOperation", "UnknownOperationException", "NotImplemented":
		return true
	}
	return strings.Contains(strings.ToLower(code), "notimplemented")
}

// loop moves messages one batch at a time: each is received (hidden from
// the queue's consumer for a minute), sent to its destination with its
// attributes and group, then deleted. A dry run sends and deletes nothing,
// and makes what it received visible again when it is done.
func (d DeadLetters) loop(ctx context.Context, q DeadLetterQueue, total int, o RedriveOptions) (RedriveResult, error) {
	r := RedriveResult{To: map[string]int{}}
	var held []types.Message
	defer func() { d.release(context.WithoutCancel(ctx), q.URL, held) }()
	for o.Max == 0 || r.Moved < o.Max {
		want := 10
		if o.Max > 0 {
			want = min(want, o.Max-r.Moved)
		}
		msgs, err := d.receive(ctx, q.URL, int32(want), 60)
		if err != nil {
			return r, err
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			id := aws.ToString(m.MessageId)
			if o.DryRun {
				held = append(held, m)
			}
			to, err := d.destination(ctx, q, m)
			if err != nil {
				return r, err
			}
			if !o.DryRun {
				in := &sqs.SendMessageInput{QueueUrl: &to, MessageBody: m.Body, MessageAttributes: m.MessageAttributes}
				if g := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]; g != "" {
					in.MessageGroupId = &g
				}
				if _, err := d.API.SendMessage(ctx, in); err != nil {
					return r, fmt.Errorf("send %s back: %w (it stays in %s)", id, err, q.LogicalID)
				}
				if _, err := d.API.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.URL, ReceiptHandle: m.ReceiptHandle}); err != nil {
					return r, fmt.Errorf("delete %s from %s after sending it back: %w (it will be in both)", id, q.LogicalID, err)
				}
			}
			r.Moved++
			r.To[QueueName(to)]++
			if o.Progress != nil {
				o.Progress(r.Moved, max(total, r.Moved))
			}
		}
	}
	return r, nil
}

// destination is the URL of the queue a dead letter goes back to: the one
// SQS names (DeadLetterQueueSourceArn), else the queue's only source, else
// the source of the letter's lane (a <Kind>PriorityQueue, <Kind>BulkQueue,
// or the normal <Kind>Queue).
func (d DeadLetters) destination(ctx context.Context, q DeadLetterQueue, m types.Message) (string, error) {
	if arn := m.Attributes[string(types.MessageSystemAttributeNameDeadLetterQueueSourceArn)]; arn != "" {
		name := QueueName(arn)
		for _, u := range q.Sources {
			if strings.HasSuffix(u, "/"+name) {
				return u, nil
			}
		}
		out, err := d.API.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &name})
		if err != nil {
			return "", fmt.Errorf("the source queue %s: %w", name, err)
		}
		return aws.ToString(out.QueueUrl), nil
	}
	if len(q.Sources) == 1 {
		return q.Sources[0], nil
	}
	lane := laneOf(letter(m))
	for _, u := range q.Sources {
		id := d.LogicalID(u)
		switch {
		case lane == "priority" && strings.HasSuffix(id, "PriorityQueue"),
			lane == "bulk" && strings.HasSuffix(id, "BulkQueue"),
			lane != "priority" && lane != "bulk" && !strings.HasSuffix(id, "PriorityQueue") && !strings.HasSuffix(id, "BulkQueue"):
			return u, nil
		}
	}
	return "", fmt.Errorf("%s: no source queue of lane %q among %v", q.LogicalID, lane, q.Sources)
}
