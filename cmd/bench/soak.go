package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/localstack"
	"github.com/digital-citizenship/functions/pkg/messages"
)

// soakPlan is make soak's load: the pipeline's ceiling measured first, then
// a long steady phase at half of it and a burst at three times it.
type soakPlan struct {
	steady, burst time.Duration
}

// soaker submits messages open loop at a rate, reads one status for every
// five submissions, and keeps what each minute saw.
type soaker struct {
	c        client
	citizens []string
	s        *localstack.Stack
	out      io.Writer

	mu       sync.Mutex
	accepted []submission
	minute   soakMinute // the current minute's
	next     atomic.Int64
	// firstError says what the first failed call got.
	firstError string
}

// soakMinute is what one minute of the soak saw.
type soakMinute struct {
	submitted, errors, statusReads int
	submitLatency                  []time.Duration
}

// soak runs the plan through the local stack and prints a line a minute and
// the totals: accepted, delivered, lost, duplicated.
func soak(ctx context.Context, s *localstack.Stack, c client, citizens []string, plan soakPlan, out io.Writer, stackLog string) error {
	fmt.Fprintln(out, "… the pipeline's ceiling: 300 messages, closed loop, from 201 to e-mail SENT")
	p, _, err := pipeline(ctx, s, c, citizens, 300, 16, 0)
	if err != nil {
		return err
	}
	ceiling := p.PerSecond
	fmt.Fprintf(out, "  %.1f messages/s; the soak: %s at %.1f/s (half), then %s at %.1f/s (three times)\n",
		ceiling, plan.steady, ceiling/2, plan.burst, 3*ceiling)
	k := &soaker{c: c, citizens: citizens, s: s, out: out}
	start := time.Now()
	fmt.Fprintln(out, "minute  phase   rate/s  submitted  submit p95  accepted→sent p95 / max  errors  RSS of each function's environments (MiB)")
	latSeen := len(s.Latencies("email"))
	errSeen := functionErrors(s)
	invSeen := invocations(s)
	var rssRows []map[string][]int
	ticker := time.NewTicker(time.Minute)
	defer ticker.Stop()
	phases := []struct {
		name string
		rate float64
		dur  time.Duration
	}{{"steady", ceiling / 2, plan.steady}, {"burst", 3 * ceiling, plan.burst}}
	minute := 0
	report := func(phase string, rate float64) {
		minute++
		k.mu.Lock()
		m := k.minute
		k.minute = soakMinute{}
		k.mu.Unlock()
		lat := s.Latencies("email")
		fresh := lat[latSeen:]
		latSeen = len(lat)
		fnErr := functionErrors(s)
		// The functions this minute kept busy (the others idle, their
		// memory the kernel's to reclaim).
		inv := invocations(s)
		rss := map[string][]int{}
		for id, envs := range s.RSS() {
			if inv[id] > invSeen[id] {
				rss[id] = envs
			}
		}
		invSeen = inv
		if phase == "steady" {
			rssRows = append(rssRows, rss)
		}
		fmt.Fprintf(out, "%6d  %-6s  %6.1f  %9d  %7.0f ms  %7.0f / %6.0f ms  %6d  %s\n", minute, phase, rate, m.submitted,
			distribution(m.submitLatency).P95, pct(fresh, 0.95), pct(fresh, 1), m.errors+fnErr-errSeen, rssLine(rss))
		errSeen = fnErr
	}
	for _, ph := range phases {
		done := make(chan struct{})
		go func() { k.run(ctx, ph.rate, ph.dur); close(done) }()
	wait:
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-done:
				report(ph.name, ph.rate) // the phase's last, maybe partial, minute
				ticker.Reset(time.Minute)
				break wait
			case <-ticker.C:
				report(ph.name, ph.rate)
			}
		}
	}
	sent, err := k.waitFinal(ctx)
	if err != nil {
		return err
	}
	report("drain", 0)
	fmt.Fprintf(out, "… every accepted message final after %s; counting what reached the citizens\n", time.Since(start).Round(time.Second))
	return k.totals(sent, rssRows, stackLog)
}

// run submits at rate for dur, open loop: a submission starts at its time
// whatever the others do (64 at most at once).
func (k *soaker) run(ctx context.Context, rate float64, dur time.Duration) {
	start := time.Now()
	n := int(rate * dur.Seconds())
	slots := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range n {
		at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-time.After(time.Until(at)):
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			k.submitOne(int(k.next.Add(1)))
		})
	}
	wg.Wait()
}

func (k *soaker) submitOne(i int) {
	fc := k.citizens[i%len(k.citizens)]
	t0 := time.Now()
	status, body, err := k.c.do("POST", "/api/v1/messages/"+fc, benchMessage(fmt.Sprintf("Avviso soak n. %d", i)), k.c.key)
	lat := time.Since(t0)
	k.mu.Lock()
	k.minute.submitted++
	k.minute.submitLatency = append(k.minute.submitLatency, lat)
	ok := err == nil && status == http.StatusCreated
	if !ok {
		k.minute.errors++
		if k.firstError == "" {
			k.firstError = fmt.Sprintf("a submission answered %d %v (%v)", status, body, err)
		}
	} else {
		id, _ := body["id"].(string)
		k.accepted = append(k.accepted, submission{citizen: fc, id: id, latency: lat, subject: fmt.Sprintf("Avviso soak n. %d", i)})
	}
	var read submission
	if i%5 == 0 && len(k.accepted) > 0 {
		read = k.accepted[rand.IntN(len(k.accepted))]
	}
	k.mu.Unlock()
	if read.id != "" { // one status read for every five submissions, as a sender polls
		status, _, err := k.c.do("GET", "/api/v1/messages/"+read.citizen+"/"+read.id, "", k.c.key)
		k.mu.Lock()
		k.minute.statusReads++
		if err != nil || status != http.StatusOK {
			k.minute.errors++
		}
		k.mu.Unlock()
	}
}

// waitFinal waits until every accepted message's e-mail is final (10
// minutes at most) and returns which were SENT.
func (k *soaker) waitFinal(ctx context.Context) (map[string]bool, error) {
	msgs := store.NewMessages(dynamodb.NewFromConfig(k.s.Config), k.s.Resources.Refs["MessagesTable"])
	deadline := time.Now().Add(10 * time.Minute)
	sent := map[string]bool{}
	for _, sub := range k.accepted {
		for {
			m, err := msgs.Get(ctx, sub.citizen, sub.id)
			if err != nil {
				return nil, err
			}
			ch := m.Channels[messages.Email]
			if ch.Status != "" && ch.Status != messages.ChannelThrottled {
				sent[sub.id] = ch.Status == messages.ChannelSent
				break
			}
			if m.Status == messages.Rejected || m.Status == messages.Failed || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return sent, nil
}

// totals counts the e-mails SES got by subject: delivered (SENT, and in
// SES), duplicated (in SES more than once), lost (accepted, and not SENT or
// not in SES).
func (k *soaker) totals(sent map[string]bool, rssRows []map[string][]int, stackLog string) error {
	bySubject, err := sesSubjects(k.s.Endpoints.AWS)
	if err != nil {
		return err
	}
	delivered, lost, duplicated := 0, 0, 0
	for i := range int(k.next.Load()) + 1 {
		if n := bySubject[fmt.Sprintf("Avviso soak n. %d", i)]; n > 1 {
			duplicated += n - 1
		}
	}
	for _, sub := range k.accepted {
		if sent[sub.id] && bySubject[sub.subject] > 0 {
			delivered++
		} else {
			lost++
		}
	}
	fmt.Fprintf(k.out, "accepted %d, delivered %d, lost %d, duplicated %d (e-mails SES got more than once); %s\n",
		len(k.accepted), delivered, lost, duplicated, rssDrift(rssRows))
	// An event that found its channel held by another attempt is retried
	// once the lease has passed: a duplicate event of a message being sent,
	// or a delivery delayed by a lease when nothing else sends it.
	if logs, err := os.ReadFile(stackLog); err == nil {
		fmt.Fprintf(k.out, "notification events that found their channel held by another attempt: %d (a delivery that waited out "+
			"a lease would show an accepted→sent above the lease, %s)\n", strings.Count(string(logs), messages.ErrClaimed.Error()),
			messages.DefaultLease)
	}
	if k.firstError != "" {
		fmt.Fprintf(k.out, "first error: %s\n", k.firstError)
	}
	return nil
}

// sesSubjects counts the e-mails moto's SES recorded, by subject.
func sesSubjects(endpoint string) (map[string]int, error) {
	res, err := http.Get(endpoint + "/moto-api/data.json")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var data struct {
		SES struct{ Message []struct{ Subject string } } `json:"ses"`
	}
	if err := json.NewDecoder(res.Body).Decode(&data); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, m := range data.SES.Message {
		out[m.Subject]++
	}
	return out, nil
}

func invocations(s *localstack.Stack) map[string]int {
	out := map[string]int{}
	for id, st := range s.Stats() {
		out[id] = st.Invocations
	}
	return out
}

func functionErrors(s *localstack.Stack) int {
	n := 0
	for _, st := range s.Stats() {
		n += st.Errors
	}
	return n
}

// pct is the q-quantile of v (q = 1 the maximum), 0 for none.
func pct(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// rssLine is each busy function's environments' RSS, short names.
func rssLine(rss map[string][]int) string {
	ids := make([]string, 0, len(rss))
	for id := range rss {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var parts []string
	for _, id := range ids {
		var mib []string
		for _, kib := range rss[id] {
			mib = append(mib, fmt.Sprintf("%.1f", float64(kib)/1024))
		}
		parts = append(parts, strings.TrimSuffix(id, "Function")+" "+strings.Join(mib, "/"))
	}
	return strings.Join(parts, " · ")
}

// rssDrift is, over the steady minutes after the first two (warm-up), the
// largest swing of any busy function's largest environment, relative to its
// mean.
func rssDrift(rows []map[string][]int) string {
	if len(rows) < 3 {
		return "too short to judge RSS drift"
	}
	series := map[string][]float64{}
	for _, row := range rows[2:] {
		for id, envs := range row {
			series[id] = append(series[id], float64(slices.Max(envs)))
		}
	}
	worst, which := 0.0, ""
	for id, s := range series {
		mean := 0.0
		for _, v := range s {
			mean += v
		}
		mean /= float64(len(s))
		for _, v := range s {
			if d := (v - mean) / mean; d > worst || -d > worst {
				worst, which = max(d, -d), id
			}
		}
	}
	return fmt.Sprintf("RSS of the busy functions over the steady phase after warm-up within ±%.1f %% of each one's mean (widest: %s)", worst*100, which)
}
