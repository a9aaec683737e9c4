package main

import (
	"context"
	"encoding/json"
	"log"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// mapping emulates an SQS event source mapping: it polls the queue, invokes
// the function with batches, and deletes what the function did not report
// as failed. Visibility timeouts and redrive to the dead-letter queue are
// the queue's own (the emulator implements them, as SQS does).
type mapping struct {
	fn        *runtime
	sqs       *sqs.Client
	queueURL  string
	queueARN  string
	batchSize int
	logs      *log.Logger
}

func (m mapping) run(ctx context.Context) {
	for ctx.Err() == nil {
		out, err := m.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &m.queueURL, MaxNumberOfMessages: int32(min(m.batchSize, 10)), WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if ctx.Err() == nil {
				m.logs.Printf("esm %s: receive failed: %v", m.fn.name, err)
				time.Sleep(time.Second)
			}
			continue
		}
		if len(out.Messages) > 0 {
			m.invoke(ctx, out.Messages)
		}
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
	if len(del) > 0 {
		if _, err := m.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &m.queueURL, Entries: del}); err != nil {
			m.logs.Printf("esm %s: delete failed: %v", m.fn.name, err)
		}
	}
	m.logs.Printf("esm %s: batch of %d, %d to retry (%d ms)", m.fn.name, len(msgs), len(failed), time.Since(start).Milliseconds())
}
