package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
)

func remindShard(n int) string { return fmt.Sprintf("%s%02d", remindPfx, n) }

// DueReminders implements messages.ReminderStore: one query of a shard of
// ReminderIndex (keys only). The cursor is the last key read.
func (s *Messages) DueReminders(ctx context.Context, shard int, due time.Time, limit int, cursor string) ([]messages.MessageRef, string, error) {
	return s.due(ctx, reminderIndex, attrRemindShard, remindShard(shard), attrRemindAt, due, limit, cursor)
}

// due queries a sparse index of messages by time (a shard's partition
// shardValue of shardAttr, atAttr epoch seconds) for those due at or before
// due: a page of limit keys, and the cursor of the next.
func (s *Messages) due(ctx context.Context, index, shardAttr, shardValue, atAttr string, due time.Time, limit int, cursor string) ([]messages.MessageRef, string, error) {
	kc := expression.Key(shardAttr).Equal(expression.Value(shardValue)).
		And(expression.Key(atAttr).LessThanEqual(expression.Value(due.Unix())))
	e, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{TableName: &s.t.name, IndexName: aws.String(index),
		KeyConditionExpression: e.KeyCondition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		Limit: aws.Int32(int32(limit))}
	if cursor != "" {
		raw, err := paging.Decode(cursor, "")
		parts := strings.Split(raw, "\n")
		if err != nil || len(parts) != 3 {
			return nil, "", fmt.Errorf("bad %s cursor", index)
		}
		in.ExclusiveStartKey = key(parts[0], parts[1])
		in.ExclusiveStartKey[shardAttr] = &types.AttributeValueMemberS{Value: shardValue}
		in.ExclusiveStartKey[atAttr] = &types.AttributeValueMemberN{Value: parts[2]}
	}
	res, err := s.t.api.Query(ctx, in)
	if err != nil {
		return nil, "", wrap("query "+index, err)
	}
	refs := make([]messages.MessageRef, 0, len(res.Items))
	for _, k := range res.Items {
		pk, sk := stringAttr(k, attrPK), stringAttr(k, attrSK)
		refs = append(refs, messages.MessageRef{FiscalCode: strings.TrimPrefix(pk, "INBOX#"), ID: strings.TrimPrefix(sk, messagePfx)})
	}
	next := ""
	if lk := res.LastEvaluatedKey; lk != nil {
		at, _ := lk[atAttr].(*types.AttributeValueMemberN)
		if at != nil {
			next = paging.Encode(stringAttr(lk, attrPK) + "\n" + stringAttr(lk, attrSK) + "\n" + at.Value)
		}
	}
	return refs, next, nil
}

// plan sets the reminders still to come and the index key of the next, or
// takes the message out of the index.
func plan(upd expression.UpdateBuilder, id string, rest []int, next time.Time) expression.UpdateBuilder {
	if len(rest) == 0 || next.IsZero() {
		return upd.Remove(expression.Name("reminder_plan")).Remove(expression.Name(attrRemindAt)).Remove(expression.Name(attrRemindShard))
	}
	return upd.Set(expression.Name("reminder_plan"), expression.Value(rest)).
		Set(expression.Name(attrRemindAt), expression.Value(next.Unix())).
		Set(expression.Name(attrRemindShard), expression.Value(remindShard(messages.ReminderShard(id))))
}

// ClaimReminder implements messages.ReminderStore: one conditional update.
// The reminder carries a token of the write: a retry whose first attempt
// landed finds its own reminder and is the claim, not a redelivery.
func (s *Messages) ClaimReminder(ctx context.Context, fiscalCode, id string, r messages.Reminder, rest []int, next time.Time, unlessRead bool) (bool, error) {
	off := strconv.Itoa(r.OffsetSeconds)
	token := newWriteToken()
	upd := plan(expression.Set(expression.Name("reminders."+off), expression.Value(reminderItem{r.SentAt.UTC(), append([]string{}, r.Channels...), token})), id, rest, next)
	for _, ch := range r.Channels {
		upd = upd.Set(expression.Name("channels."+messages.ReminderChannel(r.OffsetSeconds, ch)), expression.Value(map[string]any{}))
	}
	cond := expression.AttributeExists(expression.Name("reminders")).
		And(expression.AttributeNotExists(expression.Name("reminders." + off))).
		And(expression.Name("status").Equal(expression.Value(messages.Processed))).
		And(expression.AttributeNotExists(expression.Name("payment_status")).Or(expression.Name("payment_status").NotEqual(expression.Value(messages.Paid))))
	if unlessRead {
		cond = cond.And(expression.AttributeNotExists(expression.Name("is_read")).Or(expression.Name("is_read").Equal(expression.Value(false))))
	}
	// The item as the failed condition found it: the reminder recorded by
	// this write's own first attempt (a success), by another run, or not at
	// all (paid, read, not processed).
	holder := ""
	_, err := s.t.updateItem(ctx, inboxPK(fiscalCode), messageSK(id), upd, cond, types.ReturnValueNone,
		func(item map[string]types.AttributeValue) bool {
			holder = stringAttr(item, "reminders."+off+".token")
			return holder == token
		})
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, problem.ErrConflict) && holder != "":
		return true, nil
	}
	return false, wrap("claim reminder", err)
}

// Replan implements messages.ReminderStore.
func (s *Messages) Replan(ctx context.Context, fiscalCode, id string, rest []int, next time.Time) error {
	upd := plan(expression.UpdateBuilder{}, id, rest, next)
	err := s.t.update(ctx, inboxPK(fiscalCode), messageSK(id), upd, expression.AttributeExists(expression.Name(attrPK)), nil)
	if errors.Is(err, problem.ErrConflict) {
		return nil // gone (an erasure)
	}
	return wrap("replan reminders", err)
}

var _ messages.ReminderStore = (*Messages)(nil)
