package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// The capacity model: what a national campaign, one million messages to
// one million citizens from one service, would take on AWS. It combines
// what the bench measured (Lambda time and DynamoDB capacity per message,
// by function, phase, table and index; the accepted→SENT latency) with the
// quotas AWS documents (Quotas) and the platform's own limits, and names the
// first bottleneck: the limit that allows the fewest messages a second.

// CapacityInputs are the model's inputs.
type CapacityInputs struct {
	Messages int `json:"messages"`
	// UsagePlanRPS is the subscription's throttle (the template's
	// ThrottleRateLimit) and DailyLimit the service's daily_message_limit.
	UsagePlanRPS float64 `json:"usage_plan_rps"`
	DailyLimit   int     `json:"daily_message_limit"`
	// LambdaSeconds is each function's time per message (its busy time
	// over the messages of the half-rate run, the authorizer's included);
	// PerRecord is, for the queues' consumers, their time per record.
	LambdaSeconds map[string]float64 `json:"lambda_seconds_per_message"`
	PerRecord     map[string]float64 `json:"seconds_per_record"`
	// Units are DynamoDB's capacity units per message by phase, then by
	// table or "table/index" (Ceiling.AWSUnitsPerMsg: by AWS's rules).
	Units map[string]map[string]Units `json:"units_per_message"`
	// Shards are the partition keys a sharded index spreads one service's
	// (or everyone's) messages over; QuotaShards the day's counters.
	Shards      map[string]int `json:"index_shards"`
	QuotaShards int            `json:"quota_counter_shards"`
	// Latency is the accepted→SENT p95 at half the local pipeline's rate.
	Latency time.Duration `json:"accepted_to_sent_p95"`
	// PushShare is the share of citizens with a device (one Publish each).
	PushShare float64 `json:"push_share"`
	// TargetHours is the campaign length the raised scenario plans for.
	TargetHours float64 `json:"target_hours"`
	// Reserved is the share of SES's sending rate the bulk lane leaves
	// the priority and normal lanes (the template's SesReservedShare): a
	// campaign, in the bulk lane, sends at most the rest.
	Reserved float64 `json:"ses_reserved_share"`
	// BulkEmailConcurrency is the bulk e-mail mapping's MaximumConcurrency
	// (the template's BulkEmailConcurrency): a campaign's e-mails are sent
	// by at most that many environments.
	BulkEmailConcurrency float64 `json:"bulk_email_concurrency"`
}

// Bound is one limit and the messages a second it allows.
type Bound struct {
	Stage      string  `json:"stage"` // accept, deliver, or both
	Limit      string  `json:"limit"`
	Quota      string  `json:"quota"`
	PerSecond  float64 `json:"messages_per_second"`
	PerDay     float64 `json:"messages_per_day,omitempty"` // a daily quota: its window, not a rate
	Adjustable string  `json:"adjustable,omitempty"`
	Source     string  `json:"source"`
	// kind says which quota the bound is, for the raised scenario; table
	// names a DynamoDB table's.
	kind  boundKind
	table string
}

// boundKind names the quotas the raised scenario may raise.
type boundKind int

const (
	otherBound boundKind = iota
	usagePlanBound
	apiGatewayBound
	concurrencyBound
	sesRateBound
	snsPublishBound
	newTableBound
	tableWriteBound
	bulkEmailBound
)

// Scenario is the campaign under one set of quotas.
type Scenario struct {
	Name       string  `json:"name"`
	Bounds     []Bound `json:"bounds"`
	AcceptRate float64 `json:"accept_rate"`
	// DeliverRate is the delivery's own bound, the acceptance aside.
	DeliverRate float64 `json:"deliver_rate"`
	AcceptTime  float64 `json:"accept_seconds"`
	DeliverTime float64 `json:"deliver_seconds"`
	// Ramp is the time the queues' mappings take to scale to the
	// concurrency the rate needs, added once to the delivery.
	Ramp       float64  `json:"ramp_seconds"`
	Bottleneck string   `json:"first_bottleneck"`
	Raise      []string `json:"raise,omitempty"`
	// Next is, after the increases, the first limit left above the
	// campaign's rate: the headroom.
	Next *Bound `json:"next,omitempty"`
	// Concurrency is the Lambda concurrency the campaign's rate needs.
	Concurrency float64 `json:"lambda_concurrency"`
	// Meanwhile: another service's message or the platform's own
	// (priority) waits its lane's accepted→SENT (OthersWait, seconds)
	// while the lanes' traffic stays within OthersRate e-mails a second
	// (SES's reserved share); in one queue shared with the campaign, as
	// before the lanes, it would wait behind the campaign's backlog: up to
	// SharedWait seconds.
	OthersWait float64 `json:"others_wait_seconds"`
	OthersRate float64 `json:"others_ses_rate"`
	SharedWait float64 `json:"shared_queue_wait_seconds"`
}

// Capacity is the model's answer: the campaign with today's defaults, and
// after the increases that let it run in TargetHours.
type Capacity struct {
	Inputs   CapacityInputs `json:"inputs"`
	Defaults Scenario       `json:"defaults"`
	Raised   Scenario       `json:"raised"`
	Cost     float64        `json:"cost_usd"`
}

// quotaSet is what a scenario may change: the account's quotas and the
// platform's own limits.
type quotaSet struct {
	usagePlan, daily, apigw, concurrency, tableWrite, newTable, sesRate, sesDay, snsPublish, bulkEmail float64
}

func defaultQuotas(in CapacityInputs) quotaSet {
	return quotaSet{usagePlan: in.UsagePlanRPS, daily: float64(in.DailyLimit), apigw: Quotas.APIGatewayAccountRPS.Value,
		concurrency: Quotas.LambdaConcurrency.Value, tableWrite: Quotas.DynamoDBTableWrite.Value, newTable: Quotas.DynamoDBNewTable.Value,
		sesRate: Quotas.SESRate.Value, sesDay: Quotas.SESDay.Value, snsPublish: Quotas.SNSPublish.Value, bulkEmail: in.BulkEmailConcurrency}
}

// writes sums the write units per message on each table and index, over
// the phases.
func (in CapacityInputs) writes() map[string]float64 {
	w := map[string]float64{}
	for _, tables := range in.Units {
		for name, u := range tables {
			w[name] += u.Write
		}
	}
	return w
}

// bounds lists every limit under q.
func (in CapacityInputs) bounds(q quotaSet) []Bound {
	b := []Bound{
		{Stage: "accept", Limit: "Service's daily_message_limit", Quota: fmt.Sprintf("%s a day (Europe/Rome)", num(q.daily)),
			PerSecond: q.daily / 86400, PerDay: q.daily, Adjustable: "admin updateService", Source: "this platform (default 250,000, GOV.UK's)"},
		{Stage: "accept", Limit: "Subscription's throttle (usage plan)", Quota: num(q.usagePlan) + " requests/s", kind: usagePlanBound,
			PerSecond: q.usagePlan, Adjustable: "template parameter ThrottleRateLimit", Source: "template.yaml"},
		{Stage: "accept", Limit: "API Gateway account throttle", Quota: num(q.apigw) + " requests/s, shared by every API of the account",
			kind: apiGatewayBound, PerSecond: q.apigw, Adjustable: Quotas.APIGatewayAccountRPS.Adjustable, Source: Quotas.APIGatewayAccountRPS.Source},
	}
	var seconds float64
	for _, s := range in.LambdaSeconds {
		seconds += s
	}
	if seconds > 0 {
		b = append(b, Bound{Stage: "both", Limit: "Lambda concurrency, every function together", kind: concurrencyBound,
			Quota:     fmt.Sprintf("%s concurrent; %.1f ms of functions a message (measured)", num(q.concurrency), seconds*1000),
			PerSecond: q.concurrency / seconds, Adjustable: Quotas.LambdaConcurrency.Adjustable, Source: Quotas.LambdaConcurrency.Source})
	}
	for _, f := range sortedKeys(in.PerRecord) {
		if s := in.PerRecord[f]; s > 0 {
			b = append(b, Bound{Stage: "deliver", Limit: f + "'s SQS mapping",
				Quota:     fmt.Sprintf("%s concurrent batches; %.1f ms a record (measured)", num(Quotas.SQSMappingMax.Value), s*1000),
				PerSecond: Quotas.SQSMappingMax.Value / s, Adjustable: Quotas.SQSMappingMax.Adjustable, Source: Quotas.SQSMappingMax.Source})
		}
	}
	if s := in.PerRecord["SendEmailFunction"]; s > 0 && q.bulkEmail > 0 {
		b = append(b, Bound{Stage: "deliver", Limit: "SendEmailFunction's bulk mapping", kind: bulkEmailBound,
			Quota:     fmt.Sprintf("MaximumConcurrency %s; %.1f ms a record (measured)", num(q.bulkEmail), s*1000),
			PerSecond: q.bulkEmail / s, Adjustable: "template parameter BulkEmailConcurrency", Source: "template.yaml"})
	}
	writes := in.writes()
	for _, name := range sortedKeys(writes) {
		w := writes[name]
		if w <= 0 {
			continue
		}
		b = append(b, Bound{Stage: "both", Limit: "DynamoDB " + name + ", new on-demand table", kind: newTableBound, table: name,
			Quota:     fmt.Sprintf("%s WRU/s at first; %.1f WRU a message (measured)", num(q.newTable), w),
			PerSecond: q.newTable / w, Adjustable: Quotas.DynamoDBNewTable.Adjustable, Source: Quotas.DynamoDBNewTable.Source},
			Bound{Stage: "both", Limit: "DynamoDB " + name + ", table throughput quota", kind: tableWriteBound, table: name,
				Quota:     fmt.Sprintf("%s WRU/s; %.1f WRU a message (measured)", num(q.tableWrite), w),
				PerSecond: q.tableWrite / w, Adjustable: Quotas.DynamoDBTableWrite.Adjustable, Source: Quotas.DynamoDBTableWrite.Source})
		if shards := in.Shards[indexName(name)]; shards > 0 {
			b = append(b, Bound{Stage: "both", Limit: "DynamoDB " + name + " partitions (hot keys: " + shardKeys[indexName(name)] + ")",
				Quota:     fmt.Sprintf("%d keys × %s WCU/s; %.1f WCU a message (measured)", shards, num(Quotas.DynamoDBPartition.Value), w),
				PerSecond: float64(shards) * Quotas.DynamoDBPartition.Value / w, Source: Quotas.DynamoDBPartition.Source})
		}
	}
	if in.QuotaShards > 0 {
		b = append(b, Bound{Stage: "accept", Limit: "DynamoDB day counters (hot keys: QUOTA#<service>#<day>#<NN>)",
			Quota: fmt.Sprintf("%d keys × %s WCU/s; %s WCU each (transactional write)", in.QuotaShards, num(Quotas.DynamoDBPartition.Value),
				num(Quotas.DynamoDBTransactItem.Value)),
			PerSecond: float64(in.QuotaShards) * Quotas.DynamoDBPartition.Value / Quotas.DynamoDBTransactItem.Value,
			Source:    Quotas.DynamoDBPartition.Source + "; " + Quotas.DynamoDBTransactItem.Source})
	}
	b = append(b,
		Bound{Stage: "deliver", Limit: "SES sending rate, the bulk lane's share", kind: sesRateBound,
			Quota:      fmt.Sprintf("%s e-mails/s × %.2g (%.0f%% reserved to the other lanes)", num(q.sesRate), 1-in.Reserved, in.Reserved*100),
			PerSecond:  q.sesRate * (1 - in.Reserved),
			Adjustable: Quotas.SESRate.Adjustable, Source: Quotas.SESRate.Source},
		Bound{Stage: "deliver", Limit: "SES 24-hour quota", Quota: num(q.sesDay) + " e-mails per 24 h", PerSecond: q.sesDay / 86400,
			PerDay: q.sesDay, Adjustable: Quotas.SESDay.Adjustable, Source: Quotas.SESDay.Source})
	if in.PushShare > 0 {
		b = append(b, Bound{Stage: "deliver", Limit: "SNS Publish (push, one device each)", kind: snsPublishBound,
			Quota:     fmt.Sprintf("%s Publish/s; %.0f%% of citizens with a device", num(q.snsPublish), in.PushShare*100),
			PerSecond: q.snsPublish / in.PushShare, Adjustable: Quotas.SNSPublish.Adjustable, Source: Quotas.SNSPublish.Source})
	}
	n := float64(in.Messages)
	slices.SortStableFunc(b, func(x, y Bound) int {
		switch ex, ey := x.effective(n), y.effective(n); {
		case ex < ey:
			return -1
		case ex > ey:
			return 1
		}
		return 0
	})
	return b
}

// effective is the rate a bound holds n messages to: a daily quota that
// takes the whole campaign holds it to nothing.
func (b Bound) effective(n float64) float64 {
	if b.PerDay >= n {
		return math.Inf(1)
	}
	return b.PerSecond
}

// shardKeys names the partition keys of the sharded indexes.
var shardKeys = map[string]string{
	"SenderIndex":    "<service>#<00-15>",
	"AcceptedIndex":  "ACCEPTED#<00-15>, every service's",
	"ScheduledIndex": "SCHED#<00-15>, every service's",
	"ReminderIndex":  "REMIND#<00-31>, every service's",
	"OpeningIndex":   "OPEN#<00-15>, every service's",
}

func indexName(name string) string {
	_, idx, _ := strings.Cut(name, "/")
	return idx
}

// scenario runs the campaign under q.
func (in CapacityInputs) scenario(name string, q quotaSet) Scenario {
	s := Scenario{Name: name, Bounds: in.bounds(q)}
	n := float64(in.Messages)
	s.AcceptRate, s.DeliverRate = math.Inf(1), math.Inf(1)
	var acceptDay, deliverDay float64 = math.Inf(1), math.Inf(1)
	for _, b := range s.Bounds {
		switch {
		case b.Stage != "deliver" && b.PerDay > 0:
			acceptDay = min(acceptDay, b.PerDay)
		case b.Stage != "deliver":
			s.AcceptRate = min(s.AcceptRate, b.PerSecond)
		}
		switch {
		case b.Stage != "accept" && b.PerDay > 0:
			deliverDay = min(deliverDay, b.PerDay)
		case b.Stage != "accept":
			s.DeliverRate = min(s.DeliverRate, b.PerSecond)
		}
	}
	s.Bottleneck = s.Bounds[0].Limit // the tightest first; a daily quota that takes the campaign is last
	s.AcceptTime = windowed(n, acceptDay, s.AcceptRate)
	rate := min(s.AcceptRate, s.DeliverRate)
	var seconds float64
	for _, v := range in.LambdaSeconds {
		seconds += v
	}
	s.Concurrency = rate * seconds
	// The mappings start small and add batches a minute; Lambda adds
	// environments every 10 s: the slower of the two, to the concurrency
	// the busiest mapping needs.
	for _, per := range in.PerRecord {
		need := rate * per
		s.Ramp = max(s.Ramp, max(0, need-Quotas.SQSMappingStart.Value)/Quotas.SQSMappingStep.Value*60, need/Quotas.LambdaScaling.Value*10)
	}
	s.DeliverTime = max(s.AcceptTime, windowed(n, deliverDay, s.DeliverRate)) + s.Ramp + in.Latency.Seconds()
	s.OthersWait, s.OthersRate = in.Latency.Seconds(), q.sesRate*in.Reserved
	// In a queue shared with the campaign, the last message accepted waits
	// for everything ahead of it to be delivered.
	s.SharedWait = max(0, s.DeliverTime-s.AcceptTime)
	return s
}

// windowed is the time n messages take at rate with at most perDay of
// them in each day (a daily quota), starting as a day starts.
func windowed(n, perDay, rate float64) float64 {
	if perDay >= n || math.IsInf(perDay, 1) {
		return n / rate
	}
	full := math.Ceil(n/perDay) - 1
	return full*86400 + (n-full*perDay)/rate
}

// CapacityModel runs the defaults and the raised scenario: every
// adjustable limit below the rate of Messages in TargetHours raised to it,
// the daily ones to the campaign.
func CapacityModel(in CapacityInputs) Capacity {
	c := Capacity{Inputs: in}
	q := defaultQuotas(in)
	c.Defaults = in.scenario("defaults", q)
	target := float64(in.Messages) / (in.TargetHours * 3600)
	var raise []string
	up := func(v *float64, bound float64, what, unit string) {
		if bound >= target {
			return
		}
		old := *v
		*v = nice(old * target / bound)
		raise = append(raise, fmt.Sprintf("%s: %s → %s %s", what, num(old), num(*v), unit))
	}
	n := float64(in.Messages)
	if q.daily < n {
		raise = append(raise, fmt.Sprintf("the service's daily_message_limit: %s → %s (admin updateService)", num(q.daily), num(n)))
		q.daily = n
	}
	if q.sesDay < n {
		raise = append(raise, fmt.Sprintf("SES sending quota: %s → %s e-mails per 24 h", num(q.sesDay), num(nice(n))))
		q.sesDay = nice(n)
	}
	for _, b := range in.bounds(q) {
		switch b.kind {
		case usagePlanBound:
			up(&q.usagePlan, b.PerSecond, "ThrottleRateLimit (template parameter)", "requests/s")
		case apiGatewayBound:
			up(&q.apigw, b.PerSecond, "API Gateway account throttle", "requests/s")
		case concurrencyBound:
			up(&q.concurrency, b.PerSecond, "Lambda concurrent executions", "")
		case sesRateBound:
			up(&q.sesRate, b.PerSecond, "SES maximum send rate", "e-mails/s")
		case bulkEmailBound:
			if b.PerSecond < target { // whole environments
				need := math.Ceil(q.bulkEmail * target / b.PerSecond)
				raise = append(raise, fmt.Sprintf("BulkEmailConcurrency (template parameter): %s → %s, and SesMaxSendRate to SES's rate", num(q.bulkEmail), num(need)))
				q.bulkEmail = need
			}
		case snsPublishBound:
			up(&q.snsPublish, b.PerSecond, "SNS Publish", "/s")
		case newTableBound:
			if b.PerSecond < target {
				need := nice(q.newTable * target / b.PerSecond * 1.2) // a campaign's traffic is not even: a fifth more
				raise = append(raise, fmt.Sprintf("pre-warm %s to %s WRU/s (warm throughput)", b.table, num(need)))
				q.newTable = max(q.newTable, need)
			}
		case tableWriteBound:
			up(&q.tableWrite, b.PerSecond, "DynamoDB table-level write throughput", "WRU/s")
		}
	}
	c.Raised = in.scenario(fmt.Sprintf("%s messages in %g h", num(n), in.TargetHours), q)
	c.Raised.Raise = raise
	for _, b := range c.Raised.Bounds {
		if b.effective(n) > target*1.05 && !math.IsInf(b.effective(n), 1) {
			c.Raised.Next = &b
			break
		}
	}
	return c
}

// nice rounds v up to two significant digits.
func nice(v float64) float64 {
	if v <= 0 {
		return v
	}
	p := math.Pow(10, math.Floor(math.Log10(v))-1)
	return math.Ceil(v/p) * p
}

// num writes a number with thousands separators.
func num(v float64) string {
	if v != math.Trunc(v) && v < 100 {
		return fmt.Sprintf("%.1f", v)
	}
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// span writes a duration for people: days, hours, minutes.
func span(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second)).Round(time.Minute)
	switch {
	case d >= 24*time.Hour:
		days := int(d / (24 * time.Hour))
		if h := (d - time.Duration(days)*24*time.Hour).Hours(); h >= 0.05 {
			return fmt.Sprintf("%d d %.1f h", days, h)
		}
		return fmt.Sprintf("%d d", days)
	case d >= time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	case d >= time.Minute:
		return fmt.Sprintf("%.0f min", d.Minutes())
	}
	return fmt.Sprintf("%.0f s", seconds)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// printCapacity writes the model's tables.
func printCapacity(w io.Writer, c Capacity) {
	in := c.Inputs
	fmt.Fprintf(w, "\n### A national campaign: %s messages to %s citizens from one service, on AWS (%s, quotas of %s)\n\n",
		num(float64(in.Messages)), num(float64(in.Messages)), Quotas.Region, Quotas.Date)
	fmt.Fprintf(w, "| Limit (defaults) | Quota | Allows (messages/s) | %s messages take | Raise by |\n|---|---|---|---|---|\n", num(float64(in.Messages)))
	for i, b := range c.Defaults.Bounds {
		name := b.Limit
		if i == 0 {
			name = "**" + name + "** (first bottleneck)"
		}
		took := span(float64(in.Messages) / b.PerSecond)
		if b.PerDay > 0 {
			took = span(windowed(float64(in.Messages), b.PerDay, math.Inf(1))) + " of waiting"
		}
		adj := b.Adjustable
		if adj == "" {
			adj = "– (fixed)"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", name, b.Quota, num(b.PerSecond), took, adj)
	}
	for _, s := range []Scenario{c.Defaults, c.Raised} {
		fmt.Fprintf(w, "\n%s: accepted in %s (at most %s/s), delivered in %s (mappings' ramp %s, p95 accepted→SENT %s); first bottleneck: %s; Lambda concurrency needed %.0f.\n",
			s.Name, span(s.AcceptTime), num(s.AcceptRate), span(s.DeliverTime), span(s.Ramp), in.Latency.Round(time.Millisecond),
			s.Bottleneck, s.Concurrency)
	}
	for _, s := range []Scenario{c.Defaults, c.Raised} {
		shared := "up to " + span(s.SharedWait) + ", behind the campaign's backlog"
		if s.SharedWait < 60 {
			shared = "about as long, the campaign being delivered as fast as it is accepted"
		}
		fmt.Fprintf(w, "Meanwhile (%s), another service's message or a priority one (validation, welcome, reminder) waits %s: its lane has no backlog, "+
			"and SES keeps %s e-mails/s for those lanes; in one queue shared with the campaign (before the lanes) it would wait %s.\n",
			s.Name, in.Latency.Round(time.Millisecond), num(s.OthersRate), shared)
	}
	if nx := c.Raised.Next; nx != nil {
		fmt.Fprintf(w, "After the increases, the next limit is %s at %s messages/s (%s).\n", nx.Limit, num(nx.PerSecond), nx.Quota)
	}
	if len(c.Raised.Raise) > 0 {
		fmt.Fprintf(w, "\nTo send %s messages in %g h, raise before the campaign:\n", num(float64(in.Messages)), in.TargetHours)
		for _, r := range c.Raised.Raise {
			fmt.Fprintf(w, "- %s\n", r)
		}
	}
	fmt.Fprintf(w, "\nCost of the campaign: $%.2f (e-mail path as measured, %s; push %.0f%% at $%.2f per million).\n",
		c.Cost, Prices.Region, in.PushShare*100, Prices.SNSMobilePushPerMillion)
}
