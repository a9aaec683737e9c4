package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
)

func schedShard(n int) string { return fmt.Sprintf("%s%02d", schedPfx, n) }

// DueScheduled implements messages.ScheduledStore: one query of a shard of
// ScheduledIndex (keys only).
func (s *Messages) DueScheduled(ctx context.Context, shard int, due time.Time, limit int, cursor string) ([]messages.MessageRef, string, error) {
	return s.due(ctx, scheduledIndex, attrSchedShard, schedShard(shard), attrSchedAt, due, limit, cursor)
}

// ReleaseScheduled implements messages.ScheduledStore: one conditional
// update moves the message from ScheduledIndex to AcceptedIndex (from its
// time) and returns it; a retry whose first attempt landed knows its own
// write by its token.
func (s *Messages) ReleaseScheduled(ctx context.Context, fiscalCode, id string) (messages.Message, error) {
	token := newWriteToken()
	cond := expression.Name("status").Equal(expression.Value(messages.Scheduled)).And(expression.AttributeExists(expression.Name(attrSchedShard)))
	item, err := s.t.updateItem(ctx, inboxPK(fiscalCode), messageSK(id),
		expression.Remove(expression.Name(attrSchedShard)).Remove(expression.Name(attrSchedAt)).
			Set(expression.Name(attrAcceptedShard), expression.Value(acceptedShard(id))).
			Set(expression.Name(attrRequeueAt), expression.Name(attrSchedAt)).
			Set(expression.Name("release_token"), expression.Value(token)),
		cond, types.ReturnValueAllNew, holds("release_token", token))
	if err != nil {
		return messages.Message{}, wrap("release scheduled message", err)
	}
	var it messageItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return messages.Message{}, err
	}
	return it.message(), nil
}

// Cancel implements messages.ScheduledStore: one conditional update, with a
// token of its own for a retry whose first attempt landed.
func (s *Messages) Cancel(ctx context.Context, fiscalCode, id string, at time.Time) (messages.Message, error) {
	token := newWriteToken()
	item, err := s.t.updateItem(ctx, inboxPK(fiscalCode), messageSK(id),
		leaveAccepted(expression.Set(expression.Name("status"), expression.Value(messages.Cancelled)).
			Set(expression.Name("status_at"), expression.Value(at)).Set(expression.Name("cancel_token"), expression.Value(token))).
			Remove(expression.Name(attrSchedShard)).Remove(expression.Name(attrSchedAt)),
		expression.AttributeExists(expression.Name(attrPK)).And(expression.Name("status").Equal(expression.Value(messages.Scheduled))),
		types.ReturnValueAllNew, holds("cancel_token", token))
	if errors.Is(err, problem.ErrConflict) {
		if _, gerr := s.Get(ctx, fiscalCode, id); errors.Is(gerr, problem.ErrNotFound) {
			return messages.Message{}, fmt.Errorf("cancel message: %w", problem.ErrNotFound)
		}
	}
	if err != nil {
		return messages.Message{}, wrap("cancel message", err)
	}
	var it messageItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return messages.Message{}, err
	}
	return it.message(), nil
}

var _ messages.ScheduledStore = (*Messages)(nil)
