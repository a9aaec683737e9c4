package dynamodb

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/receipts"
)

// RecordOpening implements receipts.Store: one conditional update, which
// returns the message as it is after it, or, when its condition fails, as
// it is (DynamoDB hands the item back): already opened, not in the inbox,
// or with third_party_data read before its sender's answers. A retried
// update that finds its own opening (the same time) is this call's.
func (s *Messages) RecordOpening(ctx context.Context, fiscalCode, id string, at time.Time, o receipts.Opening, remote bool) (messages.Message, bool, error) {
	upd := expression.Set(expression.Name("opened_at"), expression.Value(at)).
		Remove(expression.Name(attrOpenShard)).Remove(expression.Name(attrOpenDue))
	for _, f := range [...]struct{ name, v string }{{"precondition", o.Precondition}, {"remote_digest", o.RemoteDigest},
		{"precondition_digest", o.PreconditionDigest}} {
		if f.v != "" { // in a fixed order: the same expression on every retry
			upd = upd.Set(expression.Name(f.name), expression.Value(f.v))
		}
	}
	cond := expression.AttributeExists(expression.Name(attrPK)).And(expression.Name("pending").Equal(expression.Value(false))).
		And(expression.AttributeNotExists(expression.Name("opened_at")))
	if !remote {
		cond = cond.And(expression.AttributeNotExists(expression.Name("content.third_party_data")))
	}
	in, err := s.t.updateInput(inboxPK(fiscalCode), messageSK(id), upd, cond)
	if err != nil {
		return messages.Message{}, false, err
	}
	out, err := s.t.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: in.TableName, Key: in.Key,
		UpdateExpression: in.UpdateExpression, ConditionExpression: in.ConditionExpression,
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.ExpressionAttributeValues,
		ReturnValues: types.ReturnValueAllNew, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return messages.Message{}, false, wrap("record opening", err)
	}
	var item map[string]types.AttributeValue
	if ccf != nil {
		item = ccf.Item
	} else {
		item = out.Attributes
	}
	if len(item) == 0 {
		return messages.Message{}, false, wrap("record opening", problem.ErrNotFound)
	}
	var it messageItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return messages.Message{}, false, err
	}
	m := it.message()
	if ccf == nil || m.Acts.OpenedAt.Equal(at) { // ours, or our own earlier attempt
		return m, true, nil
	}
	if m.Pending {
		return messages.Message{}, false, wrap("record opening", problem.ErrNotFound)
	}
	return m, false, nil
}

// DueOpenings implements receipts.Store: one query of a shard of
// OpeningIndex (keys only).
func (s *Messages) DueOpenings(ctx context.Context, shard int, due time.Time, limit int, cursor string) ([]messages.MessageRef, string, error) {
	return s.due(ctx, openingIndex, attrOpenShard, openShard(shard), attrOpenDue, due, limit, cursor)
}

// RecordNotOpened implements receipts.Store.
func (s *Messages) RecordNotOpened(ctx context.Context, fiscalCode, id string, at time.Time, precondition, head string) error {
	upd := expression.Set(expression.Name("not_opened_at"), expression.Value(at)).Set(expression.Name("legal_head"), expression.Value(head)).
		Set(expression.Name("precondition"), expression.Value(precondition))
	cond := expression.AttributeExists(expression.Name(attrPK)).And(expression.AttributeNotExists(expression.Name("opened_at"))).
		And(expression.AttributeNotExists(expression.Name("not_opened_at")))
	return wrap("record non-opening", s.t.update(ctx, inboxPK(fiscalCode), messageSK(id), upd, cond, holds("not_opened_at", at, "legal_head", head)))
}

// LeaveOpenings implements receipts.Store.
func (s *Messages) LeaveOpenings(ctx context.Context, fiscalCode, id string) error {
	upd := expression.Remove(expression.Name(attrOpenShard)).Remove(expression.Name(attrOpenDue))
	err := s.t.update(ctx, inboxPK(fiscalCode), messageSK(id), upd, expression.AttributeExists(expression.Name(attrPK)), nil)
	if errors.Is(err, problem.ErrConflict) {
		return nil // gone (an erasure)
	}
	return wrap("leave the openings' index", err)
}

var _ receipts.Store = (*Messages)(nil)
