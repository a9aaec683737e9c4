package dynamodb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// Messages stores messages, sender services and idempotency records in the
// messages table, one partition per citizen. configurations, when set, is
// the table of the services' remote-content configurations, which a message
// with third_party_data must name one of (checked as it is created).
type Messages struct {
	t              table
	configurations string
}

// WithConfigurations returns the store checking third_party_data against
// the remote-content configurations in table (the services table).
func (s *Messages) WithConfigurations(table string) *Messages {
	c := *s
	c.configurations = table
	return &c
}

// NewMessages returns the messages store on table name.
func NewMessages(api API, name string) *Messages { return &Messages{t: table{api, name}} }

type channelItem struct {
	Status        string     `dynamodbav:"status,omitempty"`
	UpdatedAt     *time.Time `dynamodbav:"updated_at,omitempty"`
	AddressSource string     `dynamodbav:"address_source,omitempty"`
	Reason        string     `dynamodbav:"reason,omitempty"`
	Retries       int        `dynamodbav:"retries,omitempty"`
	// AttemptedMS and Attempt are where claims were kept before they moved
	// out of the channels (claimItem): an attempt in flight across the
	// change still holds its lease.
	AttemptedMS int64  `dynamodbav:"attempted_ms,omitempty"`
	Attempt     string `dynamodbav:"attempt,omitempty"`
	// Delivered are the targets that accepted (push installations).
	Delivered []string `dynamodbav:"delivered,omitempty,stringset"`
}

// claimItem is the claim of a delivery attempt on one channel: when
// (epoch milliseconds) and its token, by which a retried claim knows its
// own. It is kept in a top-level attribute of its own (claimAttr), outside
// the channels that SenderIndex projects, so that a claim, which the sent
// list does not show, writes no index entry (a write unit a channel saved).
type claimItem struct {
	AttemptedMS int64  `dynamodbav:"attempted_ms"`
	Attempt     string `dynamodbav:"attempt"`
}

// claimAttr is the attribute of a channel's claim.
func claimAttr(channel string) string { return "claim_" + channel }

type messageItem struct {
	PK              string                 `dynamodbav:"pk"`
	SK              string                 `dynamodbav:"sk"`
	ID              string                 `dynamodbav:"id"`
	FiscalCode      string                 `dynamodbav:"fiscal_code"`
	SenderServiceID string                 `dynamodbav:"sender_service_id"`
	SenderUserID    string                 `dynamodbav:"sender_user_id"`
	TimeToLive      int                    `dynamodbav:"time_to_live"`
	CreatedAt       time.Time              `dynamodbav:"created_at"`
	Pending         bool                   `dynamodbav:"pending"`
	Content         *messages.Content      `dynamodbav:"content,omitempty"`
	Status          string                 `dynamodbav:"status"`
	StatusAt        time.Time              `dynamodbav:"status_at"`
	RejectionReason string                 `dynamodbav:"rejection_reason,omitempty"`
	Channels        map[string]channelItem `dynamodbav:"channels,omitempty"`
	IsRead          bool                   `dynamodbav:"is_read,omitempty"`
	IsArchived      bool                   `dynamodbav:"is_archived,omitempty"`
	StatusVersion   int                    `dynamodbav:"status_version,omitempty"`
	StatusUpdatedAt *time.Time             `dynamodbav:"status_updated_at,omitempty"`
	DefaultEmail    string                 `dynamodbav:"default_email,omitempty"`
	// While the message is ACCEPTED (never received by process-message) it
	// is in AcceptedIndex: its shard, and the time from which requeue-
	// messages counts (creation, then each requeue; epoch seconds).
	AcceptedShard string `dynamodbav:"accepted_shard,omitempty"`
	RequeueAt     int64  `dynamodbav:"requeue_at,omitempty"`
	Requeues      int    `dynamodbav:"requeues,omitempty"`
	FeatureLevel  string `dynamodbav:"feature_level_type,omitempty"`
	// A payment notice: its payee, PaymentIndex's key (payee#notice) and
	// its status.
	Payee         string     `dynamodbav:"payee,omitempty"`
	PaymentKey    string     `dynamodbav:"payment_key,omitempty"`
	PaymentStatus string     `dynamodbav:"payment_status,omitempty"`
	PaidAt        *time.Time `dynamodbav:"paid_at,omitempty"`
	// An ADVANCED message with a due date: the reminders to come (offsets),
	// ReminderIndex's key of the next (its shard and epoch seconds) and the
	// reminders recorded, by offset.
	ReminderPlan []int                   `dynamodbav:"reminder_plan,omitempty"`
	RemindShard  string                  `dynamodbav:"remind_shard,omitempty"`
	RemindAt     int64                   `dynamodbav:"remind_at,omitempty"`
	Reminders    map[string]reminderItem `dynamodbav:"reminders,omitempty"`
	// Attachments are an ADVANCED message's documents, as declared.
	Attachments []messages.Attachment `dynamodbav:"attachments,omitempty"`
	Reference   string                `dynamodbav:"reference,omitempty"`
	// Lane is the message's lane when not normal (requeued in it).
	Lane string `dynamodbav:"lane,omitempty"`
	// SenderIndex's and ReferenceIndex's partitions (sent.go).
	SenderShard string `dynamodbav:"sender_shard,omitempty"`
	RefKey      string `dynamodbav:"ref_key,omitempty"`
	// A scheduled message: its time, and ScheduledIndex's key until it is
	// released (scheduled.go).
	ScheduledAt *time.Time `dynamodbav:"scheduled_at,omitempty"`
	SchedShard  string     `dynamodbav:"sched_shard,omitempty"`
	SchedAt     int64      `dynamodbav:"sched_at,omitempty"`
	// The delivery callbacks its sender asked for (its read, its payment).
	Callbacks []string `dynamodbav:"callbacks,omitempty"`
	// Legal events (openings.go): the opening deadline, OpeningIndex's key
	// while the non-opening is to be checked, the opening and the
	// non-opening, and the digest of the latest receipt's payload.
	OpenDeadline       *time.Time `dynamodbav:"open_deadline,omitempty"`
	OpenShard          string     `dynamodbav:"open_shard,omitempty"`
	OpenDue            int64      `dynamodbav:"open_due,omitempty"`
	OpenedAt           *time.Time `dynamodbav:"opened_at,omitempty"`
	Precondition       string     `dynamodbav:"precondition,omitempty"`
	RemoteDigest       string     `dynamodbav:"remote_digest,omitempty"`
	PreconditionDigest string     `dynamodbav:"precondition_digest,omitempty"`
	NotOpenedAt        *time.Time `dynamodbav:"not_opened_at,omitempty"`
	LegalHead          string     `dynamodbav:"legal_head,omitempty"`
	// A test key's message: marked, and kept messages.TestRetention
	// (ExpiresAt is epoch seconds, the table's TTL attribute).
	IsTest    bool  `dynamodbav:"is_test,omitempty"`
	ExpiresAt int64 `dynamodbav:"expires_at,omitempty"`
}

type reminderItem struct {
	SentAt   time.Time `dynamodbav:"sent_at"`
	Channels []string  `dynamodbav:"channels"`
	// Token tells a retry of the write that recorded it its own.
	Token string `dynamodbav:"token,omitempty"`
}

type senderItem struct {
	PK                 string    `dynamodbav:"pk"`
	SK                 string    `dynamodbav:"sk"`
	ServiceID          string    `dynamodbav:"service_id"`
	ServiceVersion     int       `dynamodbav:"service_version"`
	LastNotificationAt time.Time `dynamodbav:"last_notification_at"`
}

type idempotencyItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	BodyHash   string `dynamodbav:"body_hash"`
	FiscalCode string `dynamodbav:"fiscal_code"`
	MessageID  string `dynamodbav:"message_id"`
	// ExpiresAt is epoch seconds, the table's TTL attribute.
	ExpiresAt int64 `dynamodbav:"expires_at"`
}

// Create implements messages.Store. The message enters AcceptedIndex, which
// it leaves once process-message receives it.
func (s *Messages) Create(ctx context.Context, m messages.Message, idem *messages.Idempotency) error {
	if idem == nil && thirdParty(m) == nil {
		return wrap("create message", s.t.create(ctx, messageItemOf(m)))
	}
	writes, err := s.createWrites(m, idem)
	if err != nil {
		return err
	}
	return wrap("create message", configurationFailed(s.t.transact(ctx, writes...), len(writes)-1, thirdParty(m) != nil))
}

func thirdParty(m messages.Message) *messages.ThirdPartyData {
	if m.Content == nil {
		return nil
	}
	return m.Content.ThirdPartyData
}

// configurationFailed tells, from a cancelled transaction that creates a
// message, whether the check of its remote-content configuration (the item
// at index check, when checked) is what failed: ErrNoConfiguration.
func configurationFailed(err error, check int, checked bool) error {
	var tce *types.TransactionCanceledException
	if checked && errors.As(err, &tce) && check < len(tce.CancellationReasons) &&
		aws.ToString(tce.CancellationReasons[check].Code) == "ConditionalCheckFailed" {
		return fmt.Errorf("%w: %w", messages.ErrNoConfiguration, err)
	}
	return err
}

// messageItemOf is the item of a new message.
func messageItemOf(m messages.Message) messageItem {
	it := messageItem{PK: inboxPK(m.FiscalCode), SK: messageSK(m.ID), ID: m.ID,
		FiscalCode: m.FiscalCode, SenderServiceID: m.SenderServiceID, SenderUserID: m.SenderUserID,
		TimeToLive: m.TimeToLive, CreatedAt: m.CreatedAt, Pending: true, Content: m.Content, Status: string(m.Status),
		StatusAt: m.StatusAt, DefaultEmail: m.DefaultEmail, AcceptedShard: acceptedShard(m.ID), RequeueAt: m.CreatedAt.Unix(),
		FeatureLevel: m.FeatureLevel, Payee: m.Payee, PaymentStatus: m.PaymentStatus, Attachments: m.Attachments,
		Reference: m.Reference, SenderShard: senderShard(m.SenderServiceID, m.ID), Callbacks: m.Callbacks}
	if m.Lane != messages.LaneNormal {
		it.Lane = m.Lane
	}
	if m.Test {
		it.IsTest, it.ExpiresAt = true, m.CreatedAt.Add(messages.TestRetention).Unix()
	}
	if m.Reference != "" {
		it.RefKey = refKey(m.SenderServiceID, m.Reference)
	}
	if m.Status == messages.Scheduled {
		// In ScheduledIndex until released, then in AcceptedIndex.
		at := m.ScheduledAt
		it.ScheduledAt, it.SchedShard, it.SchedAt = &at, schedShard(messages.ScheduledShard(m.ID)), at.Unix()
		it.AcceptedShard, it.RequeueAt = "", 0
	}
	if m.PaymentStatus != "" && m.Content != nil && m.Content.PaymentData != nil {
		it.PaymentKey = paymentKey(m.Payee, m.Content.PaymentData.NoticeNumber)
	}
	return it
}

// createWrites are the writes that create a message, and its idempotency
// record when idem is set, in a transaction: the message first, and last
// the check that its remote-content configuration exists, when it has
// third_party_data.
func (s *Messages) createWrites(m messages.Message, idem *messages.Idempotency) ([]types.TransactWriteItem, error) {
	put, err := s.t.createInput(messageItemOf(m))
	if err != nil {
		return nil, err
	}
	writes := []types.TransactWriteItem{{Put: put}}
	if idem != nil {
		idemPut, err := s.idempotencyPut(m, idem)
		if err != nil {
			return nil, err
		}
		writes = append(writes, types.TransactWriteItem{Put: idemPut})
	}
	if d := thirdParty(m); d != nil {
		if s.configurations == "" {
			return nil, errors.New("create message: third_party_data, and no configurations' table to check it against")
		}
		cond, err := expression.NewBuilder().WithCondition(expression.AttributeExists(expression.Name(attrPK))).Build()
		if err != nil {
			return nil, err
		}
		writes = append(writes, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.configurations,
			Key: key(servicePK(m.SenderServiceID), remoteContentSK(d.ConfigurationID)), ConditionExpression: cond.Condition(),
			ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()}})
	}
	return writes, nil
}

// idempotencyPut writes an Idempotency-Key's record.
func (s *Messages) idempotencyPut(m messages.Message, idem *messages.Idempotency) (*types.Put, error) {
	av, err := attributevalue.MarshalMap(idempotencyItem{idempotencyPK(idem.ServiceID, idem.KeyHash), metaSK,
		idem.BodyHash, idem.FiscalCode, idem.MessageID, idem.ExpiresAt.Unix()})
	if err != nil {
		return nil, err
	}
	// An expired record may linger until DynamoDB's TTL sweep: it may be replaced.
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name(attrExpires).LessThan(expression.Value(m.CreatedAt.Unix())))).Build()
	if err != nil {
		return nil, err
	}
	return &types.Put{TableName: &s.t.name, Item: av, ConditionExpression: cond.Condition(),
		ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()}, nil
}

// Idempotency implements messages.Store.
func (s *Messages) Idempotency(ctx context.Context, serviceID, keyHash string) (messages.Idempotency, error) {
	var it idempotencyItem
	if err := s.t.get(ctx, idempotencyPK(serviceID, keyHash), metaSK, &it); err != nil {
		return messages.Idempotency{}, wrap("get idempotency key", err)
	}
	return messages.Idempotency{ServiceID: serviceID, KeyHash: keyHash, BodyHash: it.BodyHash,
		FiscalCode: it.FiscalCode, MessageID: it.MessageID, ExpiresAt: time.Unix(it.ExpiresAt, 0)}, nil
}

// ReleaseIdempotency implements messages.Store.
func (s *Messages) ReleaseIdempotency(ctx context.Context, serviceID, keyHash string) error {
	_, err := s.t.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.t.name, Key: key(idempotencyPK(serviceID, keyHash), metaSK)})
	return wrap("release idempotency key", err)
}

// Get implements messages.Store.
func (s *Messages) Get(ctx context.Context, fiscalCode, id string) (messages.Message, error) {
	var it messageItem
	if err := s.t.get(ctx, inboxPK(fiscalCode), messageSK(id), &it); err != nil {
		return messages.Message{}, wrap("get message", err)
	}
	return it.message(), nil
}

func (it messageItem) message() messages.Message {
	m := messages.Message{ID: it.ID, FiscalCode: it.FiscalCode, SenderServiceID: it.SenderServiceID,
		SenderUserID: it.SenderUserID, TimeToLive: it.TimeToLive, CreatedAt: it.CreatedAt, Pending: it.Pending,
		Content: it.Content, Status: messages.Status(it.Status), StatusAt: it.StatusAt,
		RejectionReason: it.RejectionReason, Channels: map[string]messages.Channel{},
		IsRead: it.IsRead, IsArchived: it.IsArchived, StatusVersion: it.StatusVersion, DefaultEmail: it.DefaultEmail,
		Requeues: it.Requeues, FeatureLevel: it.FeatureLevel, Payee: it.Payee, PaymentStatus: it.PaymentStatus,
		Attachments: it.Attachments, Reference: it.Reference, Callbacks: it.Callbacks, Lane: cmp.Or(it.Lane, messages.LaneNormal),
		Test: it.IsTest}
	if it.PaidAt != nil {
		m.PaidAt = *it.PaidAt
	}
	if it.ScheduledAt != nil {
		m.ScheduledAt = *it.ScheduledAt
	}
	if it.RemindAt != 0 {
		m.ReminderPlan, m.RemindAt = it.ReminderPlan, time.Unix(it.RemindAt, 0)
	}
	for off, r := range it.Reminders {
		o, _ := strconv.Atoi(off)
		m.Reminders = append(m.Reminders, messages.Reminder{OffsetSeconds: o, SentAt: r.SentAt, Channels: r.Channels})
	}
	slices.SortFunc(m.Reminders, func(a, b messages.Reminder) int { return a.SentAt.Compare(b.SentAt) })
	m.Acts = messages.Acts{Due: it.OpenShard != "", Precondition: it.Precondition, RemoteDigest: it.RemoteDigest,
		PreconditionDigest: it.PreconditionDigest, LegalHead: it.LegalHead}
	for _, t := range []struct {
		from *time.Time
		to   *time.Time
	}{{it.OpenDeadline, &m.Acts.Deadline}, {it.OpenedAt, &m.Acts.OpenedAt}, {it.NotOpenedAt, &m.Acts.NotOpenedAt}} {
		if t.from != nil {
			*t.to = *t.from
		}
	}
	if it.StatusUpdatedAt != nil {
		m.StatusUpdatedAt = *it.StatusUpdatedAt
	} else {
		m.StatusUpdatedAt = it.StatusAt
	}
	for name, c := range it.Channels {
		ch := messages.Channel{Status: messages.ChannelStatus(c.Status), AddressSource: c.AddressSource, Reason: c.Reason, Retries: c.Retries}
		if c.UpdatedAt != nil {
			ch.UpdatedAt = *c.UpdatedAt
		}
		m.Channels[name] = ch
	}
	return m
}

// notFinal holds while the message may still change status.
func notFinal(extra ...messages.Status) expression.ConditionBuilder {
	ops := []expression.OperandBuilder{expression.Value(messages.Throttled), expression.Value(messages.Scheduled)}
	for _, s := range extra {
		ops = append(ops, expression.Value(s))
	}
	return expression.AttributeExists(expression.Name(attrPK)).
		And(expression.Name("status").In(expression.Value(messages.Accepted), ops...))
}

// SetStatus implements messages.Store.
func (s *Messages) SetStatus(ctx context.Context, fiscalCode, id string, st messages.Status, reason string, at time.Time) error {
	upd := leaveAccepted(expression.Set(expression.Name("status"), expression.Value(st)).
		Set(expression.Name("status_at"), expression.Value(at)))
	if reason != "" {
		upd = upd.Set(expression.Name("rejection_reason"), expression.Value(reason))
	}
	return wrap("set message status", s.t.update(ctx, inboxPK(fiscalCode), messageSK(id), upd, notFinal(),
		holds("status", st, "status_at", at)))
}

// Deliver implements messages.Store.
func (s *Messages) Deliver(ctx context.Context, m messages.Message, sender messages.SenderService) error {
	channels := map[string]channelItem{}
	for name, c := range m.Channels {
		it := channelItem{AddressSource: c.AddressSource, Status: string(c.Status), Reason: c.Reason}
		if !c.UpdatedAt.IsZero() {
			it.UpdatedAt = &c.UpdatedAt
		}
		channels[name] = it
	}
	upd := leaveAccepted(expression.Set(expression.Name("content"), expression.Value(m.Content))).
		Set(expression.Name("pending"), expression.Value(false)).
		Set(expression.Name("status"), expression.Value(messages.Processed)).
		Set(expression.Name("status_at"), expression.Value(sender.LastNotificationAt)).
		Set(expression.Name("channels"), expression.IfNotExists(expression.Name("channels"), expression.Value(channels)))
	if len(m.Attachments) > 0 { // with the versions checked
		upd = upd.Set(expression.Name("attachments"), expression.Value(m.Attachments))
	}
	if a := m.Acts; a.Due && !a.Deadline.IsZero() { // into OpeningIndex, once
		upd = upd.Set(expression.Name("open_deadline"), expression.IfNotExists(expression.Name("open_deadline"), expression.Value(a.Deadline))).
			Set(expression.Name(attrOpenDue), expression.IfNotExists(expression.Name(attrOpenDue), expression.Value(a.Deadline.Unix()))).
			Set(expression.Name(attrOpenShard), expression.IfNotExists(expression.Name(attrOpenShard), expression.Value(openShard(messages.OpeningShard(m.ID)))))
	}
	if len(m.ReminderPlan) > 0 {
		upd = upd.Set(expression.Name("reminder_plan"), expression.IfNotExists(expression.Name("reminder_plan"), expression.Value(m.ReminderPlan))).
			Set(expression.Name(attrRemindAt), expression.IfNotExists(expression.Name(attrRemindAt), expression.Value(m.RemindAt.Unix()))).
			Set(expression.Name(attrRemindShard), expression.IfNotExists(expression.Name(attrRemindShard), expression.Value(remindShard(messages.ReminderShard(m.ID))))).
			Set(expression.Name("reminders"), expression.IfNotExists(expression.Name("reminders"), expression.Value(map[string]reminderItem{})))
	}
	// Two plain writes, not a transaction (which DynamoDB bills twice): the
	// message first, under its condition (a REJECTED or FAILED one gets no
	// sender entry), then the citizen's entry of its sender. Both are
	// idempotent (the update holds for a PROCESSED message), so a failure
	// of the second is retried as a whole with the event.
	if err := s.t.update(ctx, inboxPK(m.FiscalCode), messageSK(m.ID), upd, notFinal(messages.Processed), nil); err != nil {
		return wrap("deliver message", err)
	}
	return wrap("deliver message: its sender", s.t.put(ctx, senderItem{inboxPK(sender.FiscalCode), senderSK(sender.ServiceID),
		sender.ServiceID, sender.ServiceVersion, sender.LastNotificationAt}))
}

// channelOpen holds while channel exists and has no final status.
func channelOpen(channel string) expression.ConditionBuilder {
	st := expression.Name("channels." + channel + ".status")
	return expression.AttributeExists(expression.Name("channels." + channel)).
		And(expression.AttributeNotExists(st).Or(st.Equal(expression.Value(messages.ChannelThrottled))))
}

// ClaimChannel implements messages.Store: one conditional update that
// stamps the attempt with a token of its own and returns the channel, so
// that the targets earlier attempts delivered to come without a read. When
// the condition fails, DynamoDB hands back the item as it is: a claim that
// holds our token is our own, landed by an attempt of this request whose
// answer was lost (the SDK retried it), and is ours to use.
func (s *Messages) ClaimChannel(ctx context.Context, fiscalCode, id, channel string, at time.Time, lease time.Duration) (messages.Claim, error) {
	attempted := expression.Name(claimAttr(channel) + ".attempted_ms")
	before := expression.Name("channels." + channel + ".attempted_ms") // a claim made before claims moved
	cut := expression.Value(at.Add(-lease).UnixMilli())
	token := newWriteToken()
	cond := channelOpen(channel).And(expression.AttributeNotExists(attempted).Or(attempted.LessThan(cut))).
		And(expression.AttributeNotExists(before).Or(before.LessThan(cut)))
	in, err := s.t.updateInput(inboxPK(fiscalCode), messageSK(id), expression.Set(expression.Name(claimAttr(channel)),
		expression.Value(claimItem{AttemptedMS: at.UnixMilli(), Attempt: token})), cond)
	if err != nil {
		return messages.Claim{}, err
	}
	out, err := s.t.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: in.TableName, Key: in.Key,
		UpdateExpression: in.UpdateExpression, ConditionExpression: in.ConditionExpression,
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.ExpressionAttributeValues,
		ReturnValues: types.ReturnValueAllNew, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return messages.Claim{}, wrap("claim channel", err)
	}
	var item map[string]types.AttributeValue
	if ccf != nil {
		item = ccf.Item // the message as it is: final, held by another attempt, or claimed by us
	} else {
		item = out.Attributes
	}
	var it messageItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return messages.Claim{}, err
	}
	var claim claimItem
	if av, ok := item[claimAttr(channel)]; ok {
		if err := attributevalue.Unmarshal(av, &claim); err != nil {
			return messages.Claim{}, err
		}
	}
	c, ok := it.Channels[channel]
	switch {
	case ccf == nil || ok && claim.Attempt == token:
		return messages.Claim{Delivered: c.Delivered}, nil
	case ok && (c.Status == "" || c.Status == string(messages.ChannelThrottled)):
		return messages.Claim{}, messages.ErrClaimed
	}
	return messages.Claim{}, wrap("claim channel", conflictOn(err)) // final, or no such channel
}

// SetChannelStatus implements messages.Store.
func (s *Messages) SetChannelStatus(ctx context.Context, fiscalCode, id, channel string, st messages.ChannelStatus, reason string, at time.Time) error {
	upd := expression.Set(expression.Name("channels."+channel+".status"), expression.Value(st)).
		Set(expression.Name("channels."+channel+".updated_at"), expression.Value(at)).
		Remove(expression.Name(claimAttr(channel))).
		Remove(expression.Name("channels." + channel + ".attempted_ms")).Remove(expression.Name("channels." + channel + ".attempt"))
	if reason != "" {
		upd = upd.Set(expression.Name("channels."+channel+".reason"), expression.Value(reason))
	}
	if st == messages.ChannelThrottled { // an attempt failed and is retried
		upd = upd.Add(expression.Name("channels."+channel+".retries"), expression.Value(1))
	}
	return wrap("set channel status", s.t.update(ctx, inboxPK(fiscalCode), messageSK(id), upd, channelOpen(channel),
		holds("channels."+channel+".status", st, "channels."+channel+".updated_at", at)))
}

// RecordDelivered implements messages.Store.
func (s *Messages) RecordDelivered(ctx context.Context, fiscalCode, id, channel string, targets []string) error {
	if len(targets) == 0 {
		return nil
	}
	set := &types.AttributeValueMemberSS{Value: targets}
	upd := expression.Add(expression.Name("channels."+channel+".delivered"), expression.Value(set))
	return wrap("record delivered", s.t.update(ctx, inboxPK(fiscalCode), messageSK(id), upd, channelOpen(channel), nil))
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ChangeStatus implements messages.Store. The change carries a token of its
// own, and a change whose token is already there is not made again: an SDK
// retry of a change that landed adds nothing to the version.
func (s *Messages) ChangeStatus(ctx context.Context, fiscalCode, id string, ch messages.StatusChange, at time.Time) (messages.Message, error) {
	token := newWriteToken()
	upd := expression.Add(expression.Name("status_version"), expression.Value(1)).
		Set(expression.Name("status_updated_at"), expression.Value(at)).
		Set(expression.Name(attrStatusToken), expression.Value(token))
	if ch.IsRead != nil {
		upd = upd.Set(expression.Name("is_read"), expression.Value(*ch.IsRead))
	}
	if ch.IsArchived != nil {
		upd = upd.Set(expression.Name("is_archived"), expression.Value(*ch.IsArchived))
	}
	item, err := s.t.updateItem(ctx, inboxPK(fiscalCode), messageSK(id), upd,
		expression.AttributeExists(expression.Name(attrPK)).And(expression.Name("pending").Equal(expression.Value(false))).
			And(expression.AttributeNotExists(expression.Name(attrStatusToken)).Or(expression.Name(attrStatusToken).NotEqual(expression.Value(token)))),
		types.ReturnValueAllNew, holds(attrStatusToken, token))
	if errors.Is(err, problem.ErrConflict) {
		return messages.Message{}, fmt.Errorf("change message status: %w", problem.ErrNotFound)
	}
	if err != nil {
		return messages.Message{}, fmt.Errorf("change message status: %w", err)
	}
	var it messageItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return messages.Message{}, err
	}
	return it.message(), nil
}

// Inbox implements messages.Store.
func (s *Messages) Inbox(ctx context.Context, fiscalCode string, r paging.Request, f messages.InboxFilter) (paging.Page[messages.Message], error) {
	visible := expression.Name("pending").Equal(expression.Value(false))
	switch {
	case f.Archived == nil:
	case *f.Archived:
		visible = visible.And(expression.Name("is_archived").Equal(expression.Value(true)))
	default:
		visible = visible.And(expression.AttributeNotExists(expression.Name("is_archived")).
			Or(expression.Name("is_archived").Equal(expression.Value(false))))
	}
	summary := expression.NamesList(expression.Name("id"), expression.Name("fiscal_code"), expression.Name("sender_service_id"),
		expression.Name("time_to_live"), expression.Name("created_at"), expression.Name("status"), expression.Name(attrSK),
		expression.Name("is_read"), expression.Name("is_archived"), expression.Name("payment_status"))
	items, next, err := s.t.page(ctx, inboxPK(fiscalCode), messagePfx, r, true, &visible, &summary)
	if err != nil {
		return paging.Page[messages.Message]{}, wrap("list inbox", err)
	}
	page := paging.Page[messages.Message]{Items: []messages.Message{}, Next: next}
	for _, av := range items {
		var it messageItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return paging.Page[messages.Message]{}, err
		}
		page.Items = append(page.Items, it.message())
	}
	return page, nil
}

// Senders implements messages.Store.
func (s *Messages) Senders(ctx context.Context, fiscalCode string, r paging.Request) (paging.Page[messages.SenderService], error) {
	items, next, err := s.t.page(ctx, inboxPK(fiscalCode), senderPfx, r, false, nil, nil)
	if err != nil {
		return paging.Page[messages.SenderService]{}, wrap("list sender services", err)
	}
	page := paging.Page[messages.SenderService]{Items: []messages.SenderService{}, Next: next}
	for _, av := range items {
		var it senderItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return paging.Page[messages.SenderService]{}, err
		}
		page.Items = append(page.Items, messages.SenderService{FiscalCode: fiscalCode, ServiceID: it.ServiceID,
			ServiceVersion: it.ServiceVersion, LastNotificationAt: it.LastNotificationAt})
	}
	return page, nil
}

var _ messages.Store = (*Messages)(nil)

// acceptedShards spreads AcceptedIndex over partitions: every message
// enters it and leaves it, and one partition takes 1,000 writes a second.
const acceptedShards = 16

// acceptedShard is the AcceptedIndex partition of message id, from the
// random end of its ULID.
func acceptedShard(id string) string {
	n := 0
	if id != "" {
		n = int(id[len(id)-1]) % acceptedShards
	}
	return fmt.Sprintf("%s%02d", acceptedPfx, n)
}

// leaveAccepted takes a message out of AcceptedIndex as its status leaves
// ACCEPTED.
func leaveAccepted(upd expression.UpdateBuilder) expression.UpdateBuilder {
	return upd.Remove(expression.Name(attrAcceptedShard)).Remove(expression.Name(attrRequeueAt))
}

// Stale implements messages.Store: a query per shard of AcceptedIndex (keys
// only), then the messages themselves, which are rare.
func (s *Messages) Stale(ctx context.Context, due time.Time, limit int) ([]messages.Message, error) {
	var out []messages.Message
	for shard := range acceptedShards {
		if len(out) >= limit {
			break
		}
		kc := expression.Key(attrAcceptedShard).Equal(expression.Value(fmt.Sprintf("%s%02d", acceptedPfx, shard))).
			And(expression.Key(attrRequeueAt).LessThanEqual(expression.Value(due.Unix())))
		e, err := expression.NewBuilder().WithKeyCondition(kc).Build()
		if err != nil {
			return nil, err
		}
		res, err := s.t.api.Query(ctx, &dynamodb.QueryInput{TableName: &s.t.name, IndexName: aws.String(acceptedIndex),
			KeyConditionExpression: e.KeyCondition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
			Limit: aws.Int32(int32(limit - len(out)))})
		if err != nil {
			return nil, wrap("find stale messages", err)
		}
		for _, k := range res.Items {
			var it messageItem
			if err := s.t.get(ctx, stringAttr(k, attrPK), stringAttr(k, attrSK), &it); errors.Is(err, problem.ErrNotFound) {
				continue // gone since (an erasure)
			} else if err != nil {
				return nil, wrap("read a stale message", err)
			}
			// ACCEPTED, or SCHEDULED and released (then in AcceptedIndex).
			if it.Status == string(messages.Accepted) || it.Status == string(messages.Scheduled) {
				out = append(out, it.message())
			}
		}
	}
	return out, nil
}

// MarkRequeued implements messages.Store.
func (s *Messages) MarkRequeued(ctx context.Context, fiscalCode, id string, requeues int, next time.Time) error {
	upd := expression.Set(expression.Name(attrRequeueAt), expression.Value(next.Unix())).
		Set(expression.Name("requeues"), expression.Value(requeues))
	cond := expression.Name("status").In(expression.Value(messages.Accepted), expression.Value(messages.Scheduled)).
		And(expression.AttributeExists(expression.Name(attrAcceptedShard)))
	return wrap("mark requeued", s.t.update(ctx, inboxPK(fiscalCode), messageSK(id), upd, cond, nil))
}
