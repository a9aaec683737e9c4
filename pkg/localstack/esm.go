package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/digital-citizenship/functions/pkg/iam"
)

// mapping emulates an SQS event source mapping: pollers receive batches of
// up to batchSize records, gathering for at most window, invoke the function
// with them, and delete what the function did not report as failed. At most
// concurrency batches are in flight (ScalingConfig.MaximumConcurrency, else
// the function's own cap). Visibility timeouts and redrive to the
// dead-letter queue are the queue's own (the emulator implements them, as
// SQS does).
type mapping struct {
	fn          *runtime
	sqs         *sqs.Client
	queueURL    string
	queueARN    string
	batchSize   int
	window      time.Duration
	concurrency int
	logs        *log.Logger
	stats       *mappingStats
}

// mappingStats counts the mapping's own SQS requests, which a deployment
// pays for too.
type mappingStats struct {
	mu       sync.Mutex
	Receives int
	Deletes  int
	Batches  int
	Records  int
}

// run polls the queue as Lambda's pollers do: one while the queue is
// idle, one more for each batch received (up to the mapping's concurrency),
// and back to one as receives come back empty. An idle queue costs the
// emulator one short poll a second, not one per environment.
func (m mapping) run(ctx context.Context) {
	var wg sync.WaitGroup
	var active atomic.Int32
	limit := int32(max(m.concurrency, 1))
	var spawn func()
	spawn = func() {
		active.Add(1)
		wg.Go(func() {
			for ctx.Err() == nil {
				msgs := m.gather(ctx)
				if len(msgs) == 0 {
					if n := active.Load(); n > 1 && active.CompareAndSwap(n, n-1) {
						return // an idle poller beyond the first leaves
					}
					continue
				}
				if n := active.Load(); n < limit && active.CompareAndSwap(n, n+1) {
					active.Add(-1) // spawn counts it
					spawn()
				}
				m.invoke(ctx, msgs)
			}
			active.Add(-1)
		})
	}
	spawn()
	wg.Wait()
}

// idleWait is an empty mapping's long poll, in seconds: a poll waits at
// the emulator until a message arrives (moto wakes it on arrival). Longer
// polls would save the emulator a few empty receives, but a poll whose
// connection is cut (the fault tests' outages) stays at moto until it ends
// and takes the messages that arrive meanwhile, which then wait out their
// visibility timeout: a second bounds that.
const idleWait = 1

// gather receives one batch: it returns as soon as batchSize records are
// in, or the batching window has passed with at least one.
func (m mapping) gather(ctx context.Context) []types.Message {
	var msgs []types.Message
	var deadline time.Time
	for ctx.Err() == nil && len(msgs) < m.batchSize {
		wait := int32(idleWait)
		if len(msgs) > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				break
			}
			wait = int32(min(int(left/time.Second), 1))
		}
		out, err := m.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &m.queueURL, MaxNumberOfMessages: int32(min(m.batchSize-len(msgs), 10)), WaitTimeSeconds: wait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		m.count(func(s *mappingStats) { s.Receives++ })
		m.fn.record(m.call("SQS.ReceiveMessage"))
		if err != nil {
			if ctx.Err() == nil {
				m.logs.Printf("esm %s: receive failed: %v", m.fn.name, err)
				time.Sleep(time.Second)
			}
			break
		}
		if len(msgs) == 0 && len(out.Messages) > 0 {
			deadline = time.Now().Add(m.window)
		}
		msgs = append(msgs, out.Messages...)
		if m.window == 0 && len(msgs) > 0 {
			break
		}
	}
	return msgs
}

// call is one of the mapping's own requests, which Lambda makes with the
// function's role: the IAM check counts them as the function's.
func (m mapping) call(op string) iam.Call {
	return iam.Call{Operation: op, Method: "POST", Path: "/", Params: map[string][]string{"QueueUrl": {m.queueURL}}}
}

func (m mapping) count(f func(*mappingStats)) {
	if m.stats != nil {
		m.stats.mu.Lock()
		f(m.stats)
		m.stats.mu.Unlock()
	}
}

func (m mapping) invoke(ctx context.Context, msgs []types.Message) {
	start := time.Now()
	ev := events.SQSEvent{}
	for _, msg := range msgs {
		rec := events.SQSMessage{MessageId: aws.ToString(msg.MessageId), ReceiptHandle: aws.ToString(msg.ReceiptHandle),
			Body: aws.ToString(msg.Body), Md5OfBody: aws.ToString(msg.MD5OfBody), Attributes: msg.Attributes,
			MessageAttributes: map[string]events.SQSMessageAttribute{}, EventSource: "aws:sqs",
			EventSourceARN: m.queueARN, AWSRegion: region}
		for k, v := range msg.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: v.StringValue, BinaryValue: v.BinaryValue,
				DataType: aws.ToString(v.DataType)}
		}
		ev.Records = append(ev.Records, rec)
	}
	payload, _ := json.Marshal(ev)
	out, err := m.fn.invoke(ctx, payload)
	m.count(func(s *mappingStats) { s.Batches++; s.Records += len(msgs) })
	var resp events.SQSEventResponse
	if err == nil {
		err = json.Unmarshal(out, &resp)
	}
	if err != nil {
		// The whole batch becomes visible again after the visibility timeout.
		m.logs.Printf("esm %s: batch of %d failed: %v", m.fn.name, len(msgs), err)
		return
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, msg := range msgs {
		if !failed[aws.ToString(msg.MessageId)] {
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle})
		}
	}
	for len(del) > 0 { // DeleteMessageBatch takes at most 10 entries
		chunk := del[:min(len(del), 10)]
		del = del[len(chunk):]
		m.count(func(s *mappingStats) { s.Deletes++ })
		m.fn.record(m.call("SQS.DeleteMessageBatch"))
		if _, err := m.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &m.queueURL, Entries: chunk}); err != nil {
			m.logs.Printf("esm %s: delete failed: %v", m.fn.name, err)
		}
	}
	m.logs.Printf("esm %s: batch of %d, %d to retry (%d ms)", m.fn.name, len(msgs), len(failed), time.Since(start).Milliseconds())
}

// schedule emulates a Schedule event (EventBridge): the function is
// invoked every period, one invocation at a time, until ctx ends.
func (s *Stack) schedule(ctx context.Context, id string, period time.Duration, logs *log.Logger) {
	every(ctx, period, func() {
		if _, err := s.RunScheduled(ctx, id); err != nil && ctx.Err() == nil {
			logs.Printf("%s: scheduled invocation failed: %v", id, err)
		}
	})
}

// every runs f every period until ctx ends.
func every(ctx context.Context, period time.Duration, f func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// RunScheduled invokes function id with a scheduled event now (what
// EventBridge sends), as its Schedule event would.
func (s *Stack) RunScheduled(ctx context.Context, id string) ([]byte, error) {
	rt := s.runtimes[id]
	if rt == nil {
		return nil, fmt.Errorf("no function %s", id)
	}
	now := time.Now().UTC()
	ev, _ := json.Marshal(events.CloudWatchEvent{Version: "0", ID: strconv.FormatInt(now.UnixNano(), 10), DetailType: "Scheduled Event",
		Source: "aws.events", AccountID: s.Resources.Account, Time: now, Region: s.Resources.Region,
		Resources: []string{"arn:aws:events:" + s.Resources.Region + ":" + s.Resources.Account + ":rule/" + id}, Detail: json.RawMessage("{}")})
	s.scheduleMu.Lock() // one at a time, as a reserved concurrency of 1 would
	defer s.scheduleMu.Unlock()
	return rt.invoke(ctx, ev)
}
