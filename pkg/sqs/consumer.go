package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Event is a queue payload that can tell whether it is well formed.
type Event interface{ Valid() bool }

// Backoff bounds: the original's 285 ms base doubling per attempt, capped at
// SQS's 12-hour maximum visibility timeout.
const (
	baseBackoffMS    = 285
	maxVisibilitySec = 12 * 60 * 60
)

// BackoffSeconds returns the visibility timeout before attempt n+1 after n
// failed receives: ceil(285 ms * 2^n), at most 12 hours.
func BackoffSeconds(n int) int32 {
	if n > 30 {
		return maxVisibilitySec
	}
	s := math.Ceil(baseBackoffMS * math.Pow(2, float64(n)) / 1000)
	return int32(min(s, maxVisibilitySec))
}

// Consumer turns a batch of SQS records into calls of Handle, reporting the
// records to retry as batch item failures.
type Consumer[T Event] struct {
	// API and QueueURL are used to delay retries; with a nil API the queue's
	// own visibility timeout applies.
	API      API
	QueueURL string
	// QueueURLs, for a consumer of several queues (the lanes), are their
	// URLs: a record's retry is delayed on the queue it came from (the
	// one whose name ends its event source ARN).
	QueueURLs []string
	// Handle processes one event; an error means "retry this record later".
	Handle func(context.Context, T) error
	Log    *slog.Logger
	// Parallel is how many records are handled at once (at most 1 when
	// unset): senders that wait on slow peers, such as the webhook, bound
	// a batch's time by one timeout instead of the sum.
	Parallel int
}

// HandleBatch is the Lambda handler for the queue's event source mapping.
// A malformed record is logged and dropped: retrying it cannot help.
func (c Consumer[T]) HandleBatch(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	failed := make([]bool, len(ev.Records))
	slots := make(chan struct{}, max(c.Parallel, 1))
	var wg sync.WaitGroup
	for i, r := range ev.Records {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			failed[i] = !c.handle(ctx, r)
		})
	}
	wg.Wait()
	var resp events.SQSEventResponse
	for i, r := range ev.Records {
		if failed[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

// handle processes one record and reports whether it is done with.
func (c Consumer[T]) handle(ctx context.Context, r events.SQSMessage) bool {
	var payload T
	if err := json.Unmarshal([]byte(r.Body), &payload); err != nil || !payload.Valid() {
		c.Log.Error("dropped malformed event", "sqs_message_id", r.MessageId)
		return true
	}
	n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
	if err := c.Handle(context.WithValue(ctx, receiveCountKey{}, n), payload); err != nil {
		c.Log.Warn("event will be retried", "sqs_message_id", r.MessageId, "receive_count", n, "error", err.Error())
		wait := BackoffSeconds(n)
		var ra *retryAfter
		if errors.As(err, &ra) {
			wait = int32(min(max(math.Ceil(ra.after.Seconds()), 0), maxVisibilitySec))
		}
		c.delay(ctx, c.urlOf(r.EventSourceARN), r.ReceiptHandle, wait)
		return false
	}
	return true
}

type receiveCountKey struct{}

// ReceiveCount is how many times SQS gave the event being handled
// (ApproximateReceiveCount: 1 the first time), 0 outside a consumer.
func ReceiveCount(ctx context.Context) int {
	n, _ := ctx.Value(receiveCountKey{}).(int)
	return n
}

// retryAfter is a handler's error that says when to retry.
type retryAfter struct {
	err   error
	after time.Duration
}

func (e *retryAfter) Error() string { return e.err.Error() }
func (e *retryAfter) Unwrap() error { return e.err }

// RetryAfter wraps a handler's error so that the consumer retries the event
// after d rather than after its back-off.
func RetryAfter(err error, d time.Duration) error { return &retryAfter{err, d} }

// QueueName is the name of a queue from its URL (.../account/name) or its
// ARN (arn:aws:sqs:region:account:name).
func QueueName(urlOrARN string) string { return urlOrARN[strings.LastIndexAny(urlOrARN, "/:")+1:] }

// urlOf returns the URL of the queue of an event source ARN.
func (c Consumer[T]) urlOf(arn string) string {
	name := QueueName(arn)
	for _, u := range c.QueueURLs {
		if name != "" && strings.HasSuffix(u, "/"+name) {
			return u
		}
	}
	return c.QueueURL
}

func (c Consumer[T]) delay(ctx context.Context, url, receipt string, seconds int32) {
	if c.API == nil || url == "" {
		return
	}
	_, err := c.API.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url,
		ReceiptHandle: &receipt, VisibilityTimeout: seconds})
	if err != nil {
		// The queue's visibility timeout applies instead; nothing is lost.
		c.Log.Warn("could not delay retry", "error", err.Error())
	}
}
