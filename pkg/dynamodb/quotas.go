package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// quotaKeep is how long a day's counters stay after the day (TTL): the
// usage a service sees covers messages.UsageDays.
const quotaKeep = (messages.UsageDays + 2) * 24 * time.Hour

// CreateCounted implements messages.Quotas: one transaction writes the
// message (and its Idempotency-Key) and adds one to a counter of the day,
// on condition that the counter is below its share of the limit. The
// counter is chosen at random among the quota's shards; a full one is
// passed over for the next, so that the day ends at the limit exactly,
// and when every one is full nothing is written. A counter in another
// submission's transaction at that moment (TransactionConflict) is passed
// over too. A conflict on the key is
// reported before a full counter: a replay is never refused.
func (s *Messages) CreateCounted(ctx context.Context, m messages.Message, idem *messages.Idempotency, q messages.Quota) error {
	writes, err := s.createWrites(m, idem)
	if err != nil {
		return err
	}
	n := max(q.Shards, 1)
	start := rand.IntN(n)
	full := map[int]bool{}
	for k := 0; len(full) < n; k++ {
		shard := (start + k) % n
		if full[shard] {
			continue
		}
		if k >= 4*n { // conflicts on every counter, round after round
			return fmt.Errorf("create counted message: %w", messages.ErrCountersBusy)
		}
		cond := expression.AttributeNotExists(expression.Name("n")).
			Or(expression.Name("n").LessThan(expression.Value(q.ShardLimit(shard))))
		counter, err := s.t.updateInput(quotaPK(q.ServiceID, q.Day, shard), metaSK,
			expression.Add(expression.Name("n"), expression.Value(1)).
				Set(expression.Name(attrExpires), expression.Value(q.Reset.Add(quotaKeep).Unix())), cond)
		if err != nil {
			return err
		}
		_, err = s.t.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: append([]types.TransactWriteItem{{Update: counter}}, writes...)})
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return wrap("create counted message", err)
		}
		reason := func(i int) string {
			if i < len(tce.CancellationReasons) {
				return aws.ToString(tce.CancellationReasons[i].Code)
			}
			return ""
		}
		last := len(writes) // the counter is item 0: the message's writes follow
		switch {
		case thirdParty(m) != nil && reason(last) == "ConditionalCheckFailed": // no such configuration
			return fmt.Errorf("create counted message: %w: %w", messages.ErrNoConfiguration, err)
		case reason(1) == "ConditionalCheckFailed" || idem != nil && reason(2) == "ConditionalCheckFailed": // the message, or the key: taken
			return fmt.Errorf("create counted message: %w: %v", problem.ErrConflict, err)
		case reason(0) == "ConditionalCheckFailed":
			full[shard] = true
		case reason(0) == "TransactionConflict": // another submission on this counter: the next one
		default:
			return wrap("create counted message", err)
		}
	}
	return messages.ErrDailyLimit
}

// Used implements messages.Quotas: the day's counters, in one request.
func (s *Messages) Used(ctx context.Context, q messages.Quota) (int, error) {
	keys := make([]map[string]types.AttributeValue, max(q.Shards, 1))
	for i := range keys {
		keys[i] = key(quotaPK(q.ServiceID, q.Day, i), metaSK)
	}
	total := 0
	err := s.counters(ctx, "read quota counters", keys, func(_ string, n int) { total += n })
	return total, err
}

// UsedDays implements messages.UsageReader: every counter a day may have
// (up to MaxQuotaShards, whatever the limit was).
func (s *Messages) UsedDays(ctx context.Context, serviceID string, days []string) (map[string]int, error) {
	var keys []map[string]types.AttributeValue
	for _, d := range days {
		for i := range messages.MaxQuotaShards {
			keys = append(keys, key(quotaPK(serviceID, d, i), metaSK))
		}
	}
	used := map[string]int{}
	err := s.counters(ctx, "read usage", keys, func(pk string, n int) { used[quotaDay(pk)] += n })
	return used, err
}

// counters reads the counters at keys, 100 keys a BatchGetItem, taking
// unprocessed keys again, and hands each one found to add.
func (s *Messages) counters(ctx context.Context, what string, keys []map[string]types.AttributeValue, add func(pk string, n int)) error {
	bg, ok := s.t.api.(batchGetter)
	if !ok {
		return fmt.Errorf("%s: the DynamoDB client has no BatchGetItem", what)
	}
	for len(keys) > 0 {
		n := min(len(keys), 100)
		req := map[string]types.KeysAndAttributes{s.t.name: {Keys: keys[:n], ProjectionExpression: aws.String("pk, n")}}
		keys = keys[n:]
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt == 5 {
				return fmt.Errorf("%s: %d keys unprocessed", what, len(req[s.t.name].Keys))
			}
			out, err := bg.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return wrap(what, err)
			}
			for _, it := range out.Responses[s.t.name] {
				pk, _ := it[attrPK].(*types.AttributeValueMemberS)
				v, _ := it["n"].(*types.AttributeValueMemberN)
				if pk != nil && v != nil {
					c, _ := strconv.Atoi(v.Value)
					add(pk.Value, c)
				}
			}
			req = out.UnprocessedKeys
		}
	}
	return nil
}

var (
	_ messages.Quotas      = (*Messages)(nil)
	_ messages.UsageReader = (*Messages)(nil)
)
