package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/feed"
	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// Feed stores the subscriptions feed in the profiles table: one entry per
// citizen, day and level (the profile's, or a service's), in one of
// feedShards partitions chosen by the citizen's hash, so that a national
// service's day is written across 16 partitions; and per citizen the keys
// of their entries, so that the erasure finds them without a scan.
type Feed struct{ t table }

// NewFeed returns the feed store on the profiles table name.
func NewFeed(api API, name string) *Feed { return &Feed{table{api, name}} }

const (
	feedShards      = 16
	attrSubscribed  = "subscribed"
	attrFeedEntries = "entries"
	profileScope    = "P"
)

// feedPK is the partition of a level's day: FEED#<day>#<scope>#<NN>, scope
// P (the profile's) or S#<service id>.
func feedPK(day time.Time, scope string, shard int) string {
	return fmt.Sprintf("FEED#%s#%s#%02d", day.UTC().Format(feed.DateLayout), scope, shard)
}

func feedScope(service string) string {
	if service == "" {
		return profileScope
	}
	return "S#" + service
}

// feedShard is a hash's shard: its first hexadecimal digit.
func feedShard(hash string) int {
	n, _ := strconv.ParseUint(hash[:1], 16, 8)
	return int(n)
}

// feedOfPK is the partition of a citizen's entries' keys.
func feedOfPK(fiscalCode string) string { return "FEEDOF#" + fiscalCode }

type feedItem struct {
	PK         string    `dynamodbav:"pk"`
	SK         string    `dynamodbav:"sk"`
	Subscribed bool      `dynamodbav:"subscribed"`
	At         time.Time `dynamodbav:"at"`
	// ExpiresAt is epoch seconds, the table's TTL attribute: the day's
	// end plus feed.Retention.
	ExpiresAt int64 `dynamodbav:"expires_at"`
}

func feedExpiry(day time.Time) int64 {
	return day.UTC().Truncate(24 * time.Hour).Add(24*time.Hour + feed.Retention).Unix()
}

// Record implements feed.Store.
func (f *Feed) Record(ctx context.Context, fiscalCode string, at time.Time, changes []feed.Change) error {
	hash := feed.Hash(fiscalCode)
	var written []string
	for _, c := range changes {
		pk := feedPK(at, feedScope(c.Service), feedShard(hash))
		cancelled, err := f.cancel(ctx, pk, hash, !c.Subscribed)
		if err != nil {
			return err
		}
		if cancelled {
			continue
		}
		if err := f.t.put(ctx, feedItem{pk, hash, c.Subscribed, at, feedExpiry(at)}); err != nil {
			return fmt.Errorf("record a feed entry: %w", err)
		}
		written = append(written, pk)
	}
	if len(written) == 0 {
		return nil
	}
	_, err := f.t.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &f.t.name, Key: key(feedOfPK(fiscalCode), metaSK),
		UpdateExpression:         aws.String("ADD #e :e SET #x = :x"),
		ExpressionAttributeNames: map[string]string{"#e": attrFeedEntries, "#x": attrExpires},
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberSS{Value: written},
			":x": &types.AttributeValueMemberN{Value: strconv.FormatInt(feedExpiry(at), 10)}}})
	if err != nil {
		return fmt.Errorf("index the citizen's feed entries: %w", err)
	}
	return nil
}

// cancel deletes the entry at pk of hash when it is subscribed is (the
// opposite of the change being recorded): they cancel out.
func (f *Feed) cancel(ctx context.Context, pk, hash string, subscribed bool) (bool, error) {
	_, err := f.t.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &f.t.name, Key: key(pk, hash),
		ConditionExpression:       aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": attrSubscribed},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberBOOL{Value: subscribed}}})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ccf):
		return false, nil
	}
	return false, fmt.Errorf("cancel a feed entry: %w", err)
}

type feedIndexItem struct {
	Entries []string `dynamodbav:"entries,stringset"`
}

// Erase implements feed.Store.
func (f *Feed) Erase(ctx context.Context, fiscalCode string, at time.Time) error {
	var idx feedIndexItem
	err := f.t.get(ctx, feedOfPK(fiscalCode), metaSK, &idx)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		return nil // never in the feed (or erased already): nothing to tell
	case err != nil:
		return fmt.Errorf("read the citizen's feed entries: %w", err)
	}
	hash := feed.Hash(fiscalCode)
	today := feedPK(at, profileScope, feedShard(hash))
	subscribedToday := false
	for _, pk := range idx.Entries {
		out, err := f.t.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &f.t.name, Key: key(pk, hash),
			ReturnValues: types.ReturnValueAllOld})
		if err != nil {
			return fmt.Errorf("erase a feed entry: %w", err)
		}
		if pk == today && out.Attributes != nil {
			var it feedItem
			if err := attributevalue.UnmarshalMap(out.Attributes, &it); err == nil && it.Subscribed {
				subscribedToday = true
			}
		}
	}
	if !subscribedToday {
		if err := f.t.put(ctx, feedItem{today, hash, false, at, feedExpiry(at)}); err != nil {
			return fmt.Errorf("record the erasure's unsubscription: %w", err)
		}
	}
	if _, err := f.t.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &f.t.name, Key: key(feedOfPK(fiscalCode), metaSK)}); err != nil {
		return fmt.Errorf("erase the citizen's feed index: %w", err)
	}
	return nil
}

// feedSide reads one partition of a day, in hash order, a page at a time.
type feedSide struct {
	f     *Feed
	pk    string
	buf   []feedItem
	after string // the last hash read
	done  bool
}

func (s *feedSide) peek(ctx context.Context) (*feedItem, error) {
	for len(s.buf) == 0 && !s.done {
		in := &dynamodb.QueryInput{TableName: &s.f.t.name, KeyConditionExpression: aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: s.pk}}}
		if s.after != "" {
			in.ExclusiveStartKey = key(s.pk, s.after)
		}
		out, err := s.f.t.api.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read the feed: %w", err)
		}
		var items []feedItem
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return nil, err
		}
		s.buf = items
		if len(items) > 0 {
			s.after = items[len(items)-1].SK
		}
		s.done = len(out.LastEvaluatedKey) == 0
	}
	if len(s.buf) == 0 {
		return nil, nil
	}
	return &s.buf[0], nil
}

func (s *feedSide) pop() { s.buf = s.buf[1:] }

// Day implements feed.Store: shard by shard, the profile's partition and
// the service's merged by hash (both are in hash order). The cursor is the
// shard and the last hash returned.
func (f *Feed) Day(ctx context.Context, serviceID string, day time.Time, cursor string, size int) ([]feed.Entry, string, error) {
	shard, after, err := decodeFeedCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	var out []feed.Entry
	for ; shard < feedShards; shard, after = shard+1, "" {
		p := &feedSide{f: f, pk: feedPK(day, profileScope, shard), after: after}
		s := &feedSide{f: f, pk: feedPK(day, feedScope(serviceID), shard), after: after}
		for {
			pi, err := p.peek(ctx)
			if err != nil {
				return nil, "", err
			}
			si, err := s.peek(ctx)
			if err != nil {
				return nil, "", err
			}
			if pi == nil && si == nil {
				break
			}
			if len(out) == size {
				return out, paging.Encode(fmt.Sprintf("%02d:%s", shard, out[len(out)-1].Hash)), nil
			}
			var pe, se *feed.Entry
			switch {
			case si == nil || pi != nil && pi.SK < si.SK:
				pe = &feed.Entry{Hash: pi.SK, Subscribed: pi.Subscribed, At: pi.At}
				p.pop()
			case pi == nil || si.SK < pi.SK:
				se = &feed.Entry{Hash: si.SK, Subscribed: si.Subscribed, At: si.At}
				s.pop()
			default:
				pe = &feed.Entry{Hash: pi.SK, Subscribed: pi.Subscribed, At: pi.At}
				se = &feed.Entry{Hash: si.SK, Subscribed: si.Subscribed, At: si.At}
				p.pop()
				s.pop()
			}
			out = append(out, feed.Merge(pe, se))
		}
	}
	return out, "", nil
}

func decodeFeedCursor(cursor string) (int, string, error) {
	if cursor == "" {
		return 0, "", nil
	}
	raw, err := paging.Decode(cursor, "")
	shard, hash, ok := strings.Cut(raw, ":")
	n, aerr := strconv.Atoi(shard)
	if err != nil || !ok || aerr != nil || n < 0 || n >= feedShards || len(hash) != 64 {
		return 0, "", paging.ErrCursor
	}
	return n, hash, nil
}
