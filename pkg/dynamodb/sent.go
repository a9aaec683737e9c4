package dynamodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/paging"
)

// senderShards spreads SenderIndex over partitions: every write of a
// message (its creation, its status, each channel's claim and status) is a
// write of the index, and one partition takes 1,000 write units a second;
// 16 let one service send 1,000 messages a second with three channels
// (about 8 index writes each: 500 a second a partition).
const senderShards = 16

// senderShard is the SenderIndex partition of a message of service, from
// the random end of its ULID (as acceptedShard).
func senderShard(serviceID, id string) string {
	n := 0
	if id != "" {
		n = int(id[len(id)-1]) % senderShards
	}
	return fmt.Sprintf("%s#%02d", serviceID, n)
}

// refKey is the ReferenceIndex partition of a service's reference: hashed,
// since a reference of 1,000 characters may not fit a key (2,048 bytes).
func refKey(serviceID, reference string) string {
	h := sha256.Sum256([]byte(reference))
	return serviceID + "#" + hex.EncodeToString(h[:16])
}

// Sent implements messages.SentStore: a query of each of the service's
// SenderIndex partitions at once (or of its reference's ReferenceIndex
// partition), between the bounds of since, until and the cursor, merged
// newest first. Each partition reads up to r.Size messages; the page holds
// what no unread message can precede (those at or after the latest point
// a partition stopped at), so that the cursor, the last message's sort
// key, resumes exactly after it.
func (s *Messages) Sent(ctx context.Context, serviceID string, r paging.Request, f messages.SentFilter) (paging.Page[messages.Message], error) {
	empty := paging.Page[messages.Message]{Items: []messages.Message{}}
	lo, hi := messageSK(strings.Repeat("0", 26)), messageSK("7"+strings.Repeat("Z", 25))
	if !f.Since.IsZero() {
		lo = messageSK(ids.Floor(f.Since))
	}
	if !f.Until.IsZero() {
		hi = min(hi, messageSK(ids.Ceil(f.Until.Add(-time.Millisecond))))
	}
	after, err := paging.Decode(r.Cursor, messagePfx)
	if err != nil {
		return empty, err
	}
	if after != "" {
		id := strings.TrimPrefix(after, messagePfx)
		if !ids.Valid(id) {
			return empty, paging.ErrCursor
		}
		if ids.Pred(id) == "" {
			return empty, nil
		}
		hi = min(hi, messageSK(ids.Pred(id)))
	}
	if lo > hi {
		return empty, nil
	}
	index, partitionKey, partitions := senderIndex, attrSenderShard, make([]string, senderShards)
	for i := range partitions {
		partitions[i] = fmt.Sprintf("%s#%02d", serviceID, i)
	}
	if f.Reference != "" {
		index, partitionKey, partitions = referenceIndex, attrRefKey, []string{refKey(serviceID, f.Reference)}
	}
	type result struct {
		items    []map[string]types.AttributeValue
		frontier string // the sort key the partition stopped at, "" when read to the end
		err      error
	}
	results := make([]result, len(partitions))
	var wg sync.WaitGroup
	for i, p := range partitions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, err := sentQuery(s.t.name, index, partitionKey, p, lo, hi, r.Size, f)
			if err != nil {
				results[i].err = err
				return
			}
			out, err := s.t.api.Query(ctx, in)
			if err != nil {
				results[i].err = err
				return
			}
			results[i].items, results[i].frontier = out.Items, stringAttr(out.LastEvaluatedKey, attrSK)
		}()
	}
	wg.Wait()
	watermark := ""
	for _, res := range results {
		if res.err != nil {
			return empty, wrap("list sent messages", res.err)
		}
		watermark = max(watermark, res.frontier)
	}
	var merged []messageItem
	for _, res := range results {
		for _, av := range res.items {
			var it messageItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return empty, err
			}
			if it.SK >= watermark {
				merged = append(merged, it)
			}
		}
	}
	slices.SortFunc(merged, func(a, b messageItem) int { return strings.Compare(b.SK, a.SK) })
	page := empty
	switch {
	case len(merged) > r.Size:
		merged = merged[:r.Size]
		page.Next = paging.Encode(merged[len(merged)-1].SK)
	case watermark != "":
		page.Next = paging.Encode(watermark)
	}
	for _, it := range merged {
		page.Items = append(page.Items, it.message())
	}
	return page, nil
}

// sentQuery is the query of one index partition, newest first, with the
// filter's conditions on the projected attributes.
func sentQuery(table, index, partitionKey, partition, lo, hi string, limit int, f messages.SentFilter) (*dynamodb.QueryInput, error) {
	b := expression.NewBuilder().WithKeyCondition(expression.Key(partitionKey).Equal(expression.Value(partition)).
		And(expression.Key(attrSK).Between(expression.Value(lo), expression.Value(hi))))
	var filter *expression.ConditionBuilder
	and := func(c expression.ConditionBuilder) {
		if filter != nil {
			c = filter.And(c)
		}
		filter = &c
	}
	if f.Status != "" {
		and(expression.Name("status").Equal(expression.Value(f.Status)))
	}
	if f.Reference != "" { // the partition is a hash: others may share it
		and(expression.Name("reference").Equal(expression.Value(f.Reference)))
	}
	for _, ch := range slices.Sorted(maps.Keys(f.Channels)) {
		and(expression.Name("channels." + ch + ".status").Equal(expression.Value(f.Channels[ch])))
	}
	if filter != nil {
		b = b.WithFilter(*filter)
	}
	e, err := b.Build()
	if err != nil {
		return nil, err
	}
	return &dynamodb.QueryInput{TableName: &table, IndexName: aws.String(index), KeyConditionExpression: e.KeyCondition(),
		FilterExpression: e.Filter(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit))}, nil
}

var _ messages.SentStore = (*Messages)(nil)
