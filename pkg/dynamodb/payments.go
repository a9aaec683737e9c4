package dynamodb

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
)

type receiptItem struct {
	PK              string    `dynamodbav:"pk"`
	SK              string    `dynamodbav:"sk"`
	NoticeNumber    string    `dynamodbav:"notice_number"`
	PayeeFiscalCode string    `dynamodbav:"payee_fiscal_code"`
	Amount          int64     `dynamodbav:"amount"`
	PaidAt          time.Time `dynamodbav:"paid_at"`
	// ExpiresAt is epoch seconds, the table's TTL attribute.
	ExpiresAt int64 `dynamodbav:"expires_at"`
}

func (it receiptItem) receipt() messages.Receipt {
	return messages.Receipt{NoticeNumber: it.NoticeNumber, PayeeFiscalCode: it.PayeeFiscalCode,
		Amount: it.Amount, PaidAt: it.PaidAt}
}

// RecordReceipt implements messages.Payments: a conditional put (the first
// receipt of a notice wins; an expired one lingering before DynamoDB's TTL
// sweep may be replaced), then, when one was kept already, that one.
func (s *Messages) RecordReceipt(ctx context.Context, r messages.Receipt, expires time.Time) (messages.Receipt, error) {
	// The payer's fiscal code is not kept: matching needs the payee and the
	// notice only, and the erasure finds a citizen's receipts through the
	// notices of their messages.
	it := receiptItem{receiptPK(r.PayeeFiscalCode, r.NoticeNumber), metaSK, r.NoticeNumber, r.PayeeFiscalCode,
		r.Amount, r.PaidAt.UTC(), expires.Unix()}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return messages.Receipt{}, err
	}
	token := newWriteToken()
	av[attrWriteToken] = &types.AttributeValueMemberS{Value: token}
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name(attrExpires).LessThan(expression.Value(time.Now().Unix())))).Build()
	if err != nil {
		return messages.Receipt{}, err
	}
	_, err = s.t.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.t.name, Item: av,
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return it.receipt(), nil
	case !errors.As(err, &ccf):
		return messages.Receipt{}, wrap("record receipt", err)
	}
	var kept receiptItem // kept before, or by our own attempt whose answer was lost
	if err := attributevalue.UnmarshalMap(ccf.Item, &kept); err != nil {
		return messages.Receipt{}, err
	}
	return kept.receipt(), nil
}

// Receipt implements messages.Payments, with a strongly consistent read: a
// submission looks for the receipt right after its own write.
func (s *Messages) Receipt(ctx context.Context, payee, notice string) (messages.Receipt, error) {
	res, err := s.t.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.t.name, Key: key(receiptPK(payee, notice), metaSK),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return messages.Receipt{}, wrap("get receipt", err)
	}
	if res.Item == nil {
		return messages.Receipt{}, problem.ErrNotFound
	}
	var it receiptItem
	if err := attributevalue.UnmarshalMap(res.Item, &it); err != nil {
		return messages.Receipt{}, err
	}
	if it.ExpiresAt < time.Now().Unix() {
		return messages.Receipt{}, problem.ErrNotFound // expired, not yet swept
	}
	return it.receipt(), nil
}

// ByNotice implements messages.Payments: a query of PaymentIndex.
func (s *Messages) ByNotice(ctx context.Context, payee, notice string) ([]messages.MessageRef, error) {
	e, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrPaymentKey).Equal(expression.Value(paymentKey(payee, notice)))).Build()
	if err != nil {
		return nil, err
	}
	var out []messages.MessageRef
	p := dynamodb.NewQueryPaginator(s.t.api, &dynamodb.QueryInput{TableName: &s.t.name, IndexName: aws.String(paymentIndex),
		KeyConditionExpression: e.KeyCondition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap("find the notice's messages", err)
		}
		for _, k := range page.Items {
			pk, sk := stringAttr(k, attrPK), stringAttr(k, attrSK)
			if len(pk) > len("INBOX#") && len(sk) > len(messagePfx) {
				out = append(out, messages.MessageRef{FiscalCode: pk[len("INBOX#"):], ID: sk[len(messagePfx):]})
			}
		}
	}
	return out, nil
}

// MarkPaid implements messages.Payments: one conditional update that also
// takes the message out of the reminders' index (a reminder claimed after
// it finds the message PAID; one claimed before it was due and goes). A message PAID already is
// handed back as it is (DynamoDB returns it with the failed condition).
func (s *Messages) MarkPaid(ctx context.Context, fiscalCode, id string, paidAt time.Time) (messages.Message, error) {
	upd := expression.Set(expression.Name("payment_status"), expression.Value(messages.Paid)).
		Set(expression.Name("paid_at"), expression.Value(paidAt.UTC())).
		Remove(expression.Name(attrRemindShard)).Remove(expression.Name(attrRemindAt))
	cond := expression.AttributeExists(expression.Name(attrPK)).And(expression.AttributeExists(expression.Name(attrPaymentKey))).
		And(expression.Name("payment_status").NotEqual(expression.Value(messages.Paid)))
	exists := false
	item, err := s.t.updateItem(ctx, inboxPK(fiscalCode), messageSK(id), upd, cond, types.ReturnValueAllNew,
		func(item map[string]types.AttributeValue) bool {
			exists = item != nil
			return stringAttr(item, "payment_status") == messages.Paid
		})
	if errors.Is(err, problem.ErrConflict) && !exists {
		return messages.Message{}, wrap("mark paid", problem.ErrNotFound)
	}
	if err != nil {
		return messages.Message{}, wrap("mark paid", err)
	}
	var it messageItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return messages.Message{}, err
	}
	return it.message(), nil
}

var _ messages.Payments = (*Messages)(nil)
