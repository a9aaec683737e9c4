package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/userdata"
)

// UserData stores user-data-processing requests in the profiles table,
// outside the citizen's partition (they outlive an erasure), with an index
// of the open ones by due time.
type UserData struct{ t table }

// NewUserData returns the requests' store on the profiles table name.
func NewUserData(api API, name string) *UserData { return &UserData{table{api, name}} }

type requestItem struct {
	PK         string    `dynamodbav:"pk"`
	SK         string    `dynamodbav:"sk"`
	ID         string    `dynamodbav:"id"`
	FiscalCode string    `dynamodbav:"fiscal_code"`
	Choice     string    `dynamodbav:"choice"`
	Status     string    `dynamodbav:"status"`
	CreatedAt  time.Time `dynamodbav:"created_at"`
	UpdatedAt  time.Time `dynamodbav:"updated_at"`
	DueAt      time.Time `dynamodbav:"due_at"`
	Attempts   int       `dynamodbav:"attempts"`
	Reason     string    `dynamodbav:"reason,omitempty"`
	Archive    string    `dynamodbav:"archive,omitempty"`
	Confirmed  bool      `dynamodbav:"confirmed"`
}

type dueItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	FiscalCode string `dynamodbav:"fiscal_code"`
	Choice     string `dynamodbav:"choice"`
	ID         string `dynamodbav:"id"`
}

func (it requestItem) request() userdata.Request {
	return userdata.Request{ID: it.ID, FiscalCode: it.FiscalCode, Choice: it.Choice, Status: it.Status,
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, DueAt: it.DueAt,
		Attempts: it.Attempts, Reason: it.Reason, Archive: it.Archive, Confirmed: it.Confirmed}
}

// Request implements userdata.Store.
func (s *UserData) Request(ctx context.Context, fiscalCode, choice string) (userdata.Request, error) {
	var it requestItem
	if err := s.t.get(ctx, userDataPK(fiscalCode), choice, &it); err != nil {
		return userdata.Request{}, fmt.Errorf("read user data request: %w", err)
	}
	return it.request(), nil
}

// Open implements userdata.Store: the request, on condition that none of
// its choice is open, and its index entry, in one transaction.
func (s *UserData) Open(ctx context.Context, r userdata.Request) error {
	it := requestItem{userDataPK(r.FiscalCode), r.Choice, r.ID, r.FiscalCode, r.Choice, r.Status, r.CreatedAt.UTC(),
		r.UpdatedAt.UTC(), r.DueAt.UTC(), r.Attempts, r.Reason, r.Archive, r.Confirmed}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return err
	}
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Not(expression.Name("status").In(expression.Value(userdata.Pending), expression.Value(userdata.WIP))))
	e, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return err
	}
	due, err := attributevalue.MarshalMap(dueItem{userDataDuePK(r.Choice), userdata.IndexKey(r), r.FiscalCode, r.Choice, r.ID})
	if err != nil {
		return err
	}
	err = s.t.transact(ctx,
		types.TransactWriteItem{Put: &types.Put{TableName: &s.t.name, Item: av, ConditionExpression: e.Condition(),
			ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}},
		types.TransactWriteItem{Put: &types.Put{TableName: &s.t.name, Item: due}})
	if err != nil {
		return fmt.Errorf("open user data request: %w", err)
	}
	return nil
}

// Due implements userdata.Store: the index read up to now, each entry's
// request read; entries left behind by a request that is no longer open
// are removed.
func (s *UserData) Due(ctx context.Context, choice string, now time.Time, n int) ([]userdata.Request, error) {
	// "$" sorts after "#": every entry due at now or before.
	upTo := strings.SplitN(userdata.IndexKey(userdata.Request{DueAt: now}), "#", 2)[0] + "$"
	kc := expression.Key(attrPK).Equal(expression.Value(userDataDuePK(choice))).And(expression.Key(attrSK).LessThan(expression.Value(upTo)))
	e, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	res, err := s.t.api.Query(ctx, &dynamodb.QueryInput{TableName: &s.t.name, KeyConditionExpression: e.KeyCondition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), Limit: aws.Int32(int32(n))})
	if err != nil {
		return nil, fmt.Errorf("read due requests: %w", err)
	}
	var out []userdata.Request
	for _, av := range res.Items {
		var d dueItem
		if err := attributevalue.UnmarshalMap(av, &d); err != nil {
			return nil, err
		}
		r, err := s.Request(ctx, d.FiscalCode, d.Choice)
		if err != nil && !errors.Is(err, problem.ErrNotFound) {
			return nil, err
		}
		if err != nil || r.ID != d.ID || !r.Open() {
			if _, err := s.t.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.t.name, Key: key(userDataDuePK(choice), d.SK)}); err != nil {
				return nil, fmt.Errorf("remove a stale due entry: %w", err)
			}
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// Update implements userdata.Store.
func (s *UserData) Update(ctx context.Context, r userdata.Request, from ...string) error {
	upd := expression.Set(expression.Name("status"), expression.Value(r.Status)).
		Set(expression.Name("attempts"), expression.Value(r.Attempts)).
		Set(expression.Name("updated_at"), expression.Value(r.UpdatedAt.UTC())).
		Set(expression.Name("confirmed"), expression.Value(r.Confirmed))
	for name, v := range map[string]string{"reason": r.Reason, "archive": r.Archive} {
		if v != "" {
			upd = upd.Set(expression.Name(name), expression.Value(v))
		} else {
			upd = upd.Remove(expression.Name(name))
		}
	}
	cond := expression.Name("id").Equal(expression.Value(r.ID))
	if len(from) > 0 {
		statuses := make([]expression.OperandBuilder, len(from))
		for i, f := range from {
			statuses[i] = expression.Value(f)
		}
		cond = cond.And(expression.Name("status").In(statuses[0], statuses[1:]...))
	}
	in, err := s.t.updateInput(userDataPK(r.FiscalCode), r.Choice, upd, cond)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Update: in}}
	if !r.Open() {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.name, Key: key(userDataDuePK(r.Choice), userdata.IndexKey(r))}})
	}
	if err := s.t.transact(ctx, items...); err != nil {
		return fmt.Errorf("update user data request: %w", err)
	}
	return nil
}

// Holdings implements userdata.Holdings over the profiles and messages
// tables: the citizen's partitions in both (profile versions, preferences,
// validated address, devices, bounce; inbox and senders), the welcome mark,
// the installations and the validation tokens.
type Holdings struct{ profiles, messages table }

// NewHoldings returns the holdings on the two tables.
func NewHoldings(api API, profilesTable, messagesTable string) *Holdings {
	return &Holdings{table{api, profilesTable}, table{api, messagesTable}}
}

// partition reads every item of partition pk.
func (t table) partition(ctx context.Context, pk string) ([]map[string]types.AttributeValue, error) {
	e, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(pk))).Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{TableName: &t.name, KeyConditionExpression: e.KeyCondition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}
	var out []map[string]types.AttributeValue
	for {
		res, err := t.api.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// holding is one item of the citizen's, named by its kind.
type holding struct {
	t    table
	kind string
	item map[string]types.AttributeValue
}

func (h *Holdings) all(ctx context.Context, fiscalCode string) ([]holding, error) {
	var out []holding
	profile, err := h.profiles.partition(ctx, profilePK(fiscalCode))
	if err != nil {
		return nil, fmt.Errorf("read the profile partition: %w", err)
	}
	for _, av := range profile {
		sk := skOf(av)
		kind := map[string]string{devicesSK: "devices", undeliverableSK: "undeliverable_address", preferencesSK: "service_preferences",
			emailSK: "email_validation"}[sk]
		if strings.HasPrefix(sk, versionPfx) {
			kind = "profile_versions"
		}
		out = append(out, holding{h.profiles, kind, av})
		if sk == emailSK {
			var it struct {
				Tokens []string `dynamodbav:"tokens,stringset"`
			}
			_ = attributevalue.UnmarshalMap(av, &it)
			for _, id := range it.Tokens {
				out = append(out, holding{h.profiles, "", key(tokenPK(id), metaSK)}) // erased, not exported: they hold secrets' hashes
			}
		}
		if sk == devicesSK {
			for _, d := range devicesOf(av) {
				inst, err := h.profiles.partition(ctx, installationPK(d.InstallationID))
				if err != nil {
					return nil, fmt.Errorf("read an installation: %w", err)
				}
				for _, it := range inst {
					out = append(out, holding{h.profiles, "installations", it})
				}
				out = append(out, holding{h.profiles, "", key(endpointPK(d.EndpointARN), metaSK)})
			}
		}
	}
	welcome, err := h.profiles.partition(ctx, welcomePK(fiscalCode))
	if err != nil {
		return nil, fmt.Errorf("read the welcome mark: %w", err)
	}
	for _, av := range welcome {
		out = append(out, holding{h.profiles, "welcome", av})
	}
	inbox, err := h.messages.partition(ctx, inboxPK(fiscalCode))
	if err != nil {
		return nil, fmt.Errorf("read the inbox: %w", err)
	}
	for _, av := range inbox {
		kind := "messages"
		if strings.HasPrefix(skOf(av), senderPfx) {
			kind = "senders"
		}
		out = append(out, holding{h.messages, kind, av})
		// The payment receipt of the message's notice, kept without the
		// payer's fiscal code: found through the notice, no scan.
		var pay struct {
			Payee   string `dynamodbav:"payee"`
			Content *struct {
				PaymentData *struct {
					NoticeNumber string `dynamodbav:"notice_number"`
				} `dynamodbav:"payment_data"`
			} `dynamodbav:"content"`
		}
		if _, ok := av[attrPaymentKey]; !ok || attributevalue.UnmarshalMap(av, &pay) != nil || pay.Content == nil || pay.Content.PaymentData == nil {
			continue
		}
		receipt, err := h.messages.partition(ctx, receiptPK(pay.Payee, pay.Content.PaymentData.NoticeNumber))
		if err != nil {
			return nil, fmt.Errorf("read a payment receipt: %w", err)
		}
		for _, it := range receipt {
			out = append(out, holding{h.messages, "payment_receipts", it})
		}
	}
	return out, nil
}

func skOf(av map[string]types.AttributeValue) string {
	sk, _ := av[attrSK].(*types.AttributeValueMemberS)
	if sk == nil {
		return ""
	}
	return sk.Value
}

// Export implements userdata.Holdings: every item by kind, without the
// keys and the platform's bookkeeping of tokens.
func (h *Holdings) Export(ctx context.Context, fiscalCode string) (map[string][]map[string]any, error) {
	all, err := h.all(ctx, fiscalCode)
	if err != nil {
		return nil, err
	}
	out := map[string][]map[string]any{}
	for _, it := range all {
		if it.kind == "" {
			continue
		}
		var m map[string]any
		if err := attributevalue.UnmarshalMap(it.item, &m); err != nil {
			return nil, err
		}
		delete(m, attrPK)
		delete(m, attrSK)
		for _, bookkeeping := range []string{attrTokens, "started", attrWriteToken, attrStatusToken, attrAcceptedShard, attrRequeueAt, "requeues"} {
			delete(m, bookkeeping)
		}
		out[it.kind] = append(out[it.kind], m)
	}
	return out, nil
}

// Erase implements userdata.Holdings, item by item (an erasure that stops
// halfway is run again: deleting is idempotent).
func (h *Holdings) Erase(ctx context.Context, fiscalCode string) error {
	all, err := h.all(ctx, fiscalCode)
	if err != nil {
		return err
	}
	for _, it := range all {
		k := map[string]types.AttributeValue{attrPK: it.item[attrPK], attrSK: it.item[attrSK]}
		if _, err := it.t.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &it.t.name, Key: k}); err != nil {
			return fmt.Errorf("erase an item: %w", err)
		}
	}
	return nil
}
