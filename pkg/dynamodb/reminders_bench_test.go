package dynamodb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/messages"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

// BenchmarkSweep measures one sweep of sweep-reminders on the emulators:
// reminders due at once in ReminderIndex (DynamoDB Local), read and handed
// to the jobs' sink ten at a time. "index" hands them to memory (what the
// index and the sweep's shards allow); "sqs" sends them to RemindersQueue on
// moto, emptied after each sweep (moto's SendMessageBatch slows as its
// queue grows, which a queue with consumers does not). Both report the
// reminders per second (go test -run x -bench Sweep -benchtime 3x ./pkg/dynamodb).
func BenchmarkSweep(b *testing.B) {
	cfg, st := awstest.Stack(b)
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	table := st.Refs["MessagesTable"]
	const n = 2000
	now := time.Now()
	for i := range n {
		id := fmt.Sprintf("01SWEEP%019d", i)
		av, _ := attributevalue.MarshalMap(map[string]any{"pk": inboxPK("SWEEPX80A01Y000X"), "sk": messageSK(id),
			attrRemindShard: remindShard(messages.ReminderShard(id)), attrRemindAt: now.Add(-time.Minute).Unix()})
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: av}); err != nil {
			b.Fatal(err)
		}
	}
	url := st.Refs["RemindersQueue"]
	jobs := queue.Queue{API: q, URL: url}
	for _, sink := range []struct {
		name string
		send func(context.Context, []messages.ReminderJob) error
	}{
		{"index", func(context.Context, []messages.ReminderJob) error { return nil }},
		{"sqs", func(ctx context.Context, batch []messages.ReminderJob) error {
			evs := make([]any, len(batch))
			for i, j := range batch {
				evs[i] = j
			}
			return jobs.SendBatch(ctx, evs)
		}},
	} {
		b.Run(sink.name, func(b *testing.B) {
			s := messages.Sweeper{Reminders: NewMessages(db, table), Parallel: 8, Now: time.Now, Jobs: sink.send}
			total, elapsed := 0, time.Duration(0)
			for b.Loop() {
				start := time.Now()
				got, err := s.Run(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				total += got
				if got != n {
					b.Fatalf("a sweep found %d reminders, want %d", got, n)
				}
				b.StopTimer()
				if _, err := q.PurgeQueue(context.Background(), &sqs.PurgeQueueInput{QueueUrl: &url}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(total)/elapsed.Seconds(), "reminders/s")
		})
	}
}
