package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/emails/markdown"
	"github.com/digital-citizenship/functions/pkg/localstack"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/sam"
	"github.com/digital-citizenship/functions/pkg/services"
	"github.com/digital-citizenship/functions/pkg/ses"

	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

// Ceiling is what the emulators sustain for the request mix of one
// delivered message, sent straight to them by the same use cases the
// functions run (no Lambda, no HTTP, no authorizer), with the capacity
// DynamoDB reports for it.
type Ceiling struct {
	Concurrency       int                `json:"concurrency"`
	Messages          int                `json:"messages"`
	MessagesPerSecond float64            `json:"messages_per_second"`
	RequestsPerSecond float64            `json:"requests_per_second"`
	RequestsPerMsg    map[string]float64 `json:"requests_per_message"`
	// Capacity units per message, as DynamoDB reports them
	// (ReturnConsumedCapacity TOTAL).
	WriteUnitsPerMsg float64 `json:"write_units_per_message"`
	ReadUnitsPerMsg  float64 `json:"read_units_per_message"`
	// UnitsPerMsg splits them by phase (submit, process, email) and by
	// table or index ("MessagesTable", "MessagesTable/SenderIndex"), as
	// DynamoDB reports them (ReturnConsumedCapacity INDEXES): the
	// capacity model finds the hot partitions with them.
	UnitsPerMsg map[string]map[string]Units `json:"units_per_message"`
	// By AWS's published rules: DynamoDB Local counts a transaction's
	// writes at 4 units per KB, the item's and each index's, where AWS
	// bills 2 (measured here: a 3 KB item's UpdateItem 3 units, the same
	// update in TransactWriteItems 12); the rest it counts as AWS does
	// (an index write by the size of its projected entry, an update that
	// changes no projected attribute none). The cost and the capacity
	// model use these.
	AWSWriteUnitsPerMsg float64                     `json:"write_units_per_message_aws"`
	AWSUnitsPerMsg      map[string]map[string]Units `json:"units_per_message_aws"`
}

// awsUnits returns the units per message by AWS's rules, or DynamoDB
// Local's in a report saved before they were measured apart.
func (c Ceiling) awsUnits() (float64, map[string]map[string]Units) {
	if c.AWSUnitsPerMsg == nil {
		return c.WriteUnitsPerMsg, c.UnitsPerMsg
	}
	return c.AWSWriteUnitsPerMsg, c.AWSUnitsPerMsg
}

// Units are DynamoDB capacity units.
type Units struct {
	Read  float64 `json:"read"`
	Write float64 `json:"write"`
}

// phaseKey tags a context with the phase of a message its requests are for.
type phaseKey struct{}

func inPhase(ctx context.Context, phase string) context.Context {
	return context.WithValue(ctx, phaseKey{}, phase)
}

// meter counts SDK requests by operation and sums DynamoDB's consumed
// capacity, asking for it on every DynamoDB call.
type meter struct {
	mu       sync.Mutex
	requests map[string]int
	rcu, wcu float64
	// units by phase, then by table or "table/index"; tables are named
	// by logical id through logical (physical name -> logical id).
	units   map[string]map[string]*Units
	logical map[string]string
	// The same by AWS's rules (Ceiling.AWSUnitsPerMsg).
	awsWcu   float64
	awsUnits map[string]map[string]*Units
}

// add records the capacity one request used, in its phase.
func (m *meter) add(phase string, c ddbtypes.ConsumedCapacity, query, txn bool) {
	factor := 1.0
	if txn {
		factor = 0.5 // DynamoDB Local's 4 units per KB, AWS's 2
	}
	// split tells reads from writes; a total alone is told by the operation.
	split := func(total, read, write *float64) (r, w float64) {
		r, w = aws.ToFloat64(read), aws.ToFloat64(write)
		if r == 0 && w == 0 {
			if query {
				r = aws.ToFloat64(total)
			} else {
				w = aws.ToFloat64(total)
			}
		}
		return r, w
	}
	r, w := split(c.CapacityUnits, c.ReadCapacityUnits, c.WriteCapacityUnits)
	m.rcu += r
	m.wcu += w
	m.awsWcu += w * factor
	if m.units == nil {
		m.units, m.awsUnits = map[string]map[string]*Units{}, map[string]map[string]*Units{}
	}
	if m.units[phase] == nil {
		m.units[phase], m.awsUnits[phase] = map[string]*Units{}, map[string]*Units{}
	}
	table := aws.ToString(c.TableName)
	if id, ok := m.logical[table]; ok {
		table = id
	}
	put := func(name string, r, w float64) {
		if r == 0 && w == 0 {
			return
		}
		for _, by := range []struct {
			units  map[string]*Units
			factor float64
		}{{m.units[phase], 1}, {m.awsUnits[phase], factor}} {
			u := by.units[name]
			if u == nil {
				u = &Units{}
				by.units[name] = u
			}
			u.Read += r
			u.Write += w * by.factor
		}
	}
	if c.Table == nil && len(c.GlobalSecondaryIndexes) == 0 {
		put(table, r, w)
		return
	}
	if t := c.Table; t != nil {
		r, w := split(t.CapacityUnits, t.ReadCapacityUnits, t.WriteCapacityUnits)
		put(table, r, w)
	}
	for name, cu := range c.GlobalSecondaryIndexes {
		r, w := split(cu.CapacityUnits, cu.ReadCapacityUnits, cu.WriteCapacityUnits)
		put(table+"/"+name, r, w)
	}
}

func (m *meter) options() func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		if err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("capacity", func(ctx context.Context, in middleware.InitializeInput,
			next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			total := ddbtypes.ReturnConsumedCapacityIndexes
			switch p := in.Parameters.(type) {
			case *dynamodb.PutItemInput:
				p.ReturnConsumedCapacity = total
			case *dynamodb.UpdateItemInput:
				p.ReturnConsumedCapacity = total
			case *dynamodb.GetItemInput:
				p.ReturnConsumedCapacity = total
			case *dynamodb.QueryInput:
				p.ReturnConsumedCapacity = total
			case *dynamodb.TransactWriteItemsInput:
				p.ReturnConsumedCapacity = total
			}
			out, md, err := next.HandleInitialize(ctx, in)
			var used []ddbtypes.ConsumedCapacity
			switch r := out.Result.(type) {
			case *dynamodb.PutItemOutput:
				used = append(used, deref(r.ConsumedCapacity)...)
			case *dynamodb.UpdateItemOutput:
				used = append(used, deref(r.ConsumedCapacity)...)
			case *dynamodb.GetItemOutput:
				used = append(used, deref(r.ConsumedCapacity)...)
			case *dynamodb.QueryOutput:
				used = append(used, deref(r.ConsumedCapacity)...)
			case *dynamodb.TransactWriteItemsOutput:
				used = append(used, r.ConsumedCapacity...)
			}
			_, query := out.Result.(*dynamodb.QueryOutput)
			_, txn := out.Result.(*dynamodb.TransactWriteItemsOutput)
			phase, _ := ctx.Value(phaseKey{}).(string)
			m.mu.Lock()
			for _, c := range used {
				m.add(phase, c, query, txn)
			}
			m.mu.Unlock()
			return out, md, err
		}), middleware.Before); err != nil {
			return err
		}
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("count", func(ctx context.Context, in middleware.FinalizeInput,
			next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			m.mu.Lock()
			m.requests[awsmiddleware.GetServiceID(ctx)+"."+awsmiddleware.GetOperationName(ctx)]++
			m.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	}
}

func deref(c *ddbtypes.ConsumedCapacity) []ddbtypes.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []ddbtypes.ConsumedCapacity{*c}
}

// measureCeiling runs the mix of n messages at the given concurrency on
// tables and queues of their own, in batches of 10 as the mappings take
// them.
func measureCeiling(ctx context.Context, s *localstack.Stack, n, concurrency int) (Ceiling, error) {
	res, err := sam.Provision(ctx, s.Config, s.Template, "ceiling", nil)
	if err != nil {
		return Ceiling{}, err
	}
	m := &meter{requests: map[string]int{}, logical: map[string]string{}}
	for id, ref := range res.Refs {
		m.logical[ref] = id
	}
	cfg := s.Config.Copy()
	cfg.APIOptions = append(cfg.APIOptions, m.options())
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	msgs := store.NewMessages(db, res.Refs["MessagesTable"])
	profs := store.NewProfiles(db, res.Refs["ProfilesTable"])
	created := queue.Queue{API: q, URL: res.Refs["CreatedMessagesQueue"]}
	emailQ := queue.Queue{API: q, URL: res.Refs["EmailQueue"]}
	from := s.Resources.Params["MailFrom"]
	// Counted as submit-message counts: the day's counter joins the write.
	sub := messages.CountedSubmitter{Quotas: msgs, Submitter: messages.Submitter{Store: msgs, Created: created, Now: time.Now}}
	proc := messages.Processor{Profiles: profs, Store: msgs, Emails: emailQ, Now: time.Now}
	notif := messages.Dispatcher{Channel: messages.Email, Store: msgs, Now: time.Now,
		Sender: messages.EmailSender{Mailer: ses.Mailer{API: sesv2.NewFromConfig(cfg)}, Render: markdown.Render, From: from}}

	citizens := make([]string, 50)
	for i := range citizens {
		citizens[i] = fiscalCode(i)
		if err := profs.Create(ctx, profiles.Profile{FiscalCode: citizens[i], Email: fmt.Sprintf("citizen%d@example.com", i),
			IsEmailValidated: true, IsInboxEnabled: true, PreferredLanguages: []string{"it_IT"}}, nil); err != nil {
			return Ceiling{}, fmt.Errorf("ceiling profile: %w", err)
		}
	}
	svc := services.Service{ServiceID: "ceiling", ServiceName: "Bench", OrganizationName: "Comune", DepartmentName: "Tributi",
		OrganizationFiscalCode: "00000000000", AuthorizedCIDRs: []string{}, AuthorizedRecipients: []string{}, MaxAllowedPaymentAmount: 100000}
	caller := auth.Caller{SubscriptionID: "ceiling", UserID: "bench", Groups: []auth.Group{auth.MessageWrite}}
	nm, _, err := messages.ParseNewMessage([]byte(benchMessage("Avviso del ceiling")))
	if err != nil {
		return Ceiling{}, err
	}
	m.mu.Lock()
	m.requests, m.rcu, m.wcu, m.units = map[string]int{}, 0, 0, nil
	m.mu.Unlock()

	var delivered, next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) { errOnce.Do(func() { firstErr = err }) }
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(10) <= int64(n) && firstErr == nil {
				for range 10 {
					i := int(next.Load()) % len(citizens)
					if _, err := sub.Submit(inPhase(ctx, "submit"), messages.Submission{Caller: caller, Service: svc, FiscalCode: citizens[i], Message: nm}); err != nil {
						fail(err)
					}
				}
				drain(ctx, q, created.URL, 10, func(body string) error {
					var ev messages.CreatedEvent
					if err := json.Unmarshal([]byte(body), &ev); err != nil {
						return err
					}
					return proc.Process(inPhase(ctx, "process"), ev)
				}, fail)
				drain(ctx, q, emailQ.URL, 10, func(body string) error {
					var ev messages.NotificationEvent
					if err := json.Unmarshal([]byte(body), &ev); err != nil {
						return err
					}
					if err := notif.Notify(inPhase(ctx, "email"), ev); err != nil {
						return err
					}
					delivered.Add(1)
					return nil
				}, fail)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return Ceiling{}, fmt.Errorf("ceiling mix: %w", firstErr)
	}
	d := float64(delivered.Load())
	c := Ceiling{Concurrency: concurrency, Messages: int(d), MessagesPerSecond: d / elapsed.Seconds(), RequestsPerMsg: map[string]float64{}}
	m.mu.Lock()
	defer m.mu.Unlock()
	total := 0
	for op, k := range m.requests {
		c.RequestsPerMsg[op] = float64(k) / d
		total += k
	}
	c.RequestsPerSecond = float64(total) / elapsed.Seconds()
	c.WriteUnitsPerMsg, c.ReadUnitsPerMsg = m.wcu/d, m.rcu/d
	c.AWSWriteUnitsPerMsg = m.awsWcu / d
	c.UnitsPerMsg, c.AWSUnitsPerMsg = perMessage(m.units, d), perMessage(m.awsUnits, d)
	return c, nil
}

// drain receives up to want records (a mapping's batch), handles each and
// deletes the handled ones in one batch.
func drain(ctx context.Context, q *sqs.Client, url string, want int, handle func(string) error, fail func(error)) {
	got := 0
	for tries := 0; got < want && tries < 3; tries++ {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: int32(want - got), WaitTimeSeconds: 1})
		if err != nil {
			fail(err)
			return
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for i, msg := range out.Messages {
			if err := handle(aws.ToString(msg.Body)); err != nil {
				fail(err)
				continue
			}
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle})
		}
		got += len(out.Messages)
		if len(del) > 0 {
			if _, err := q.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: del}); err != nil {
				fail(err)
			}
		}
	}
}

// perMessage divides units by phase and table by the messages.
func perMessage(units map[string]map[string]*Units, d float64) map[string]map[string]Units {
	out := map[string]map[string]Units{}
	for phase, tables := range units {
		out[phase] = map[string]Units{}
		for name, u := range tables {
			out[phase][name] = Units{Read: u.Read / d, Write: u.Write / d}
		}
	}
	return out
}
