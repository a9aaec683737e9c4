// Package sqs implements the pipeline's queues on Amazon SQS: a publisher of
// JSON events, and the consumer side of an SQS event source mapping with
// partial batch failures and exponential back-off through visibility.
package sqs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// API is the part of the SQS client the package uses.
type API interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Queue publishes events to one queue.
type Queue struct {
	API API
	URL string
}

// Send implements messages.Queue.
func (q Queue) Send(ctx context.Context, event any) error { return q.send(ctx, event, 0) }

// SendAfter implements messages.DelayedQueue: the event is received after
// delay (SQS's DelaySeconds, at most 15 minutes).
func (q Queue) SendAfter(ctx context.Context, event any, delay time.Duration) error {
	return q.send(ctx, event, int32(min(max(delay, 0), 15*time.Minute)/time.Second))
}

// Grouped is an event that names its sender: it goes with the sender as
// MessageGroupId, which on a standard queue makes SQS's fair queues keep
// one sender's backlog from delaying the others' messages (emulators that
// do not implement fairness accept and ignore it).
type Grouped interface{ MessageGroup() string }

func group(event any) *string {
	if g, ok := event.(Grouped); ok && g.MessageGroup() != "" {
		return aws.String(g.MessageGroup())
	}
	return nil
}

func (q Queue) send(ctx context.Context, event any, delaySeconds int32) error {
	body, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	s := string(body)
	in := &sqs.SendMessageInput{QueueUrl: &q.URL, MessageBody: &s, DelaySeconds: delaySeconds, MessageGroupId: group(event)}
	if _, err := q.API.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("send to queue: %w", err)
	}
	return nil
}

// Backlog reads how many messages wait in one queue.
type Backlog struct {
	API interface {
		GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	}
	URL string
	// URLs, when set, are several queues (the lanes) whose backlogs add up.
	URLs []string
}

// Visible returns the queue's visible messages (SQS's approximate count:
// neither in flight nor delayed), or the queues'.
func (b Backlog) Visible(ctx context.Context) (int, error) {
	total := 0
	for _, url := range append([]string{b.URL}, b.URLs...) {
		if url == "" {
			continue
		}
		out, err := b.API.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}})
		if err != nil {
			return 0, fmt.Errorf("read queue attributes: %w", err)
		}
		n, err := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
		if err != nil {
			return 0, fmt.Errorf("read queue attributes: ApproximateNumberOfMessages: %w", err)
		}
		total += n
	}
	return total, nil
}

// SendBatch enqueues up to ten events in one request. SQS may refuse some
// entries of a batch it accepts: those are an error too, so that the caller
// sends the batch again (a duplicate is harmless to idempotent consumers).
func (q Queue) SendBatch(ctx context.Context, events []any) error {
	return q.SendBatchAfter(ctx, events, nil)
}

// SendBatchAfter is SendBatch with a delay for each event (SQS's
// DelaySeconds, at most 15 minutes; none when delays is nil).
func (q Queue) SendBatchAfter(ctx context.Context, events []any, delays []time.Duration) error {
	entries := make([]types.SendMessageBatchRequestEntry, 0, len(events))
	for i, ev := range events {
		body, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encode event: %w", err)
		}
		e := types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body)), MessageGroupId: group(ev)}
		if delays != nil {
			e.DelaySeconds = int32(min(max(delays[i], 0), 15*time.Minute) / time.Second)
		}
		entries = append(entries, e)
	}
	out, err := q.API.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &q.URL, Entries: entries})
	if err != nil {
		return fmt.Errorf("send to queue: %w", err)
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("send to queue: %d of %d entries refused (%s)", len(out.Failed), len(entries), aws.ToString(out.Failed[0].Code))
	}
	return nil
}
