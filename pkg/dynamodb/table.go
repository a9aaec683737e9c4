package dynamodb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// API is the part of the DynamoDB client the stores use.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// batchGetter is the client's BatchGetItem, asked for only where it is used
// (the daily counters), so that the functions that never read counters do
// not link its code (API's methods are linked into every store's user).
type batchGetter interface {
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// table is one DynamoDB table and the helpers every store shares.
type table struct {
	api  API
	name string
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// get reads one item into out; problem.ErrNotFound if it does not exist.
func (t table) get(ctx context.Context, pk, sk string, out any) error {
	res, err := t.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.name, Key: key(pk, sk)})
	if err != nil {
		return err
	}
	if res.Item == nil {
		return problem.ErrNotFound
	}
	return attributevalue.UnmarshalMap(res.Item, out)
}

// put writes item (which carries its pk and sk), replacing any item there.
func (t table) put(ctx context.Context, item any) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fmt.Errorf("marshal item: %w", err)
	}
	_, err = t.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t.name, Item: av})
	return err
}

// create puts item (which carries its pk and sk) unless an item with that key
// exists; problem.ErrConflict if it does.
//
// The put carries a token of its own (attrWriteToken). The SDK retries a
// request whose answer it did not get (a cut connection, a 5xx, a bad
// CRC32); when the first attempt had landed, the retry fails its condition
// on the very item it wrote. DynamoDB hands that item back with the failure
// (ReturnValuesOnConditionCheckFailure): its token is ours, and the create
// is a success, not a conflict.
func (t table) create(ctx context.Context, item any) error {
	in, err := t.createInput(item)
	if err != nil {
		return err
	}
	token := newWriteToken()
	in.Item[attrWriteToken] = &types.AttributeValueMemberS{Value: token}
	_, err = t.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t.name, Item: in.Item,
		ConditionExpression: in.ConditionExpression, ExpressionAttributeNames: in.ExpressionAttributeNames,
		ExpressionAttributeValues: in.ExpressionAttributeValues, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) && stringAttr(ccf.Item, attrWriteToken) == token {
		return nil // our own earlier attempt
	}
	return conflictOn(err)
}

// newWriteToken returns a token that tells one write from every other.
func newWriteToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go >= 1.24)
	return hex.EncodeToString(b[:])
}

// attrAt returns item's attribute at path (names separated by dots,
// through maps), nil if there is none.
func attrAt(item map[string]types.AttributeValue, path string) types.AttributeValue {
	names := strings.Split(path, ".")
	for _, n := range names[:len(names)-1] {
		m, ok := item[n].(*types.AttributeValueMemberM)
		if !ok {
			return nil
		}
		item = m.Value
	}
	return item[names[len(names)-1]]
}

// stringAttr returns item's string attribute at path, "" if there is none.
func stringAttr(item map[string]types.AttributeValue, path string) string {
	if v, ok := attrAt(item, path).(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func (t table) createInput(item any) (*types.Put, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return nil, fmt.Errorf("marshal item: %w", err)
	}
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return nil, err
	}
	return &types.Put{TableName: &t.name, Item: av, ConditionExpression: cond.Condition(),
		ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()}, nil
}

// latest reads the item with the highest version in partition pk.
func (t table) latest(ctx context.Context, pk string, out any) error {
	kc := expression.Key(attrPK).Equal(expression.Value(pk)).And(expression.Key(attrSK).BeginsWith(versionPfx))
	e, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return err
	}
	res, err := t.api.Query(ctx, &dynamodb.QueryInput{TableName: &t.name, KeyConditionExpression: e.KeyCondition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(1)})
	if err != nil {
		return err
	}
	if len(res.Items) == 0 {
		return problem.ErrNotFound
	}
	return attributevalue.UnmarshalMap(res.Items[0], out)
}

// ownWrite tells, from an item as it is after a write's condition failed,
// that this very write made it so: its first attempt landed, its answer was
// lost, and the SDK's retry failed the condition on the result (see
// create). Such a write succeeded.
type ownWrite func(item map[string]types.AttributeValue) bool

// update applies an update expression to an existing item under cond;
// problem.ErrConflict when cond fails, unless own (when set) recognises the
// write's own earlier attempt.
func (t table) update(ctx context.Context, pk, sk string, upd expression.UpdateBuilder, cond expression.ConditionBuilder, own ownWrite) error {
	_, err := t.updateItem(ctx, pk, sk, upd, cond, types.ReturnValueNone, own)
	return err
}

// updateItem is update returning the item's attributes as ret says (the
// whole item as it is, when own recognised an earlier attempt).
func (t table) updateItem(ctx context.Context, pk, sk string, upd expression.UpdateBuilder, cond expression.ConditionBuilder,
	ret types.ReturnValue, own ownWrite) (map[string]types.AttributeValue, error) {
	in, err := t.updateInput(pk, sk, upd, cond)
	if err != nil {
		return nil, err
	}
	input := &dynamodb.UpdateItemInput{TableName: in.TableName, Key: in.Key,
		UpdateExpression: in.UpdateExpression, ConditionExpression: in.ConditionExpression,
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.ExpressionAttributeValues,
		ReturnValues: ret}
	if own != nil {
		input.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	}
	out, err := t.api.UpdateItem(ctx, input)
	var ccf *types.ConditionalCheckFailedException
	if own != nil && errors.As(err, &ccf) && own(ccf.Item) {
		return ccf.Item, nil
	}
	if err != nil {
		return nil, conflictOn(err)
	}
	return out.Attributes, nil
}

// holds returns an ownWrite that recognises an item whose attributes at
// the given paths (names separated by dots, through maps) hold the values,
// marshalled as the write marshalled them: a status and its time, say.
func holds(pathValues ...any) ownWrite {
	return func(item map[string]types.AttributeValue) bool {
		for i := 0; i+1 < len(pathValues); i += 2 {
			want, err := attributevalue.Marshal(pathValues[i+1])
			if err != nil || !reflect.DeepEqual(attrAt(item, pathValues[i].(string)), want) {
				return false
			}
		}
		return true
	}
}

func (t table) updateInput(pk, sk string, upd expression.UpdateBuilder, cond expression.ConditionBuilder) (*types.Update, error) {
	b := expression.NewBuilder().WithUpdate(upd)
	if cond.IsSet() { // an unset condition: the update is unconditional
		b = b.WithCondition(cond)
	}
	e, err := b.Build()
	if err != nil {
		return nil, err
	}
	return &types.Update{TableName: &t.name, Key: key(pk, sk), UpdateExpression: e.Update(),
		ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}, nil
}

// transact writes items at once; problem.ErrConflict if a condition failed.
// A transaction needs no token of ours: the SDK gives each call a
// ClientRequestToken, the same on its retries, and DynamoDB answers a retry
// of a transaction that succeeded with success (for 10 minutes).
//
// A transaction cancelled only because another one held one of its items
// (TransactionConflict: a citizen's messages processed at once write the
// same sender item) wrote nothing; it is tried again, a few times, after a
// short random pause (the SDK does not retry it).
func (t table) transact(ctx context.Context, items ...types.TransactWriteItem) error {
	for attempt := 0; ; attempt++ {
		_, err := t.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return err
		}
		conflict := false
		for _, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed": // the cancellation stays readable: which item failed
				return fmt.Errorf("%w: %w", problem.ErrConflict, err)
			case "TransactionConflict":
				conflict = true
			}
		}
		if !conflict || attempt == transactRetries {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(10+mathrand.IntN(40<<attempt)) * time.Millisecond):
		}
	}
}

// transactRetries bounds the tries of a transaction in conflict.
const transactRetries = 5

func conflictOn(err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%w: %v", problem.ErrConflict, err)
	}
	return err
}

// page queries partition pk for items whose sort key starts with prefix,
// resuming after the cursor, and returns the raw items and the next cursor.
// filter, when set, drops items after they are read (a page may be short).
func (t table) page(ctx context.Context, pk, prefix string, r paging.Request, newestFirst bool,
	filter *expression.ConditionBuilder, projection *expression.ProjectionBuilder) ([]map[string]types.AttributeValue, string, error) {
	after, err := paging.Decode(r.Cursor, prefix)
	if err != nil {
		return nil, "", err
	}
	b := expression.NewBuilder().WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(pk)).
		And(expression.Key(attrSK).BeginsWith(prefix)))
	if filter != nil {
		b = b.WithFilter(*filter)
	}
	if projection != nil {
		b = b.WithProjection(*projection)
	}
	e, err := b.Build()
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{TableName: &t.name, KeyConditionExpression: e.KeyCondition(), FilterExpression: e.Filter(),
		ProjectionExpression: e.Projection(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ScanIndexForward: aws.Bool(!newestFirst), Limit: aws.Int32(int32(r.Size))}
	if after != "" {
		in.ExclusiveStartKey = key(pk, after)
	}
	res, err := t.api.Query(ctx, in)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if sk, ok := res.LastEvaluatedKey[attrSK].(*types.AttributeValueMemberS); ok {
		next = paging.Encode(sk.Value)
	}
	return res.Items, next, nil
}
