package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/localstack"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/paging"
)

// LanesBench is what the lanes give (docs/lanes.md): the bulk lane alone
// against the normal lane's closed loop, and, while one service floods the
// platform at full speed, how long another service's messages, a new
// citizen's validation link and welcome messages (priority) take.
type LanesBench struct {
	BulkAlone    Pipeline `json:"bulk_alone"`
	BulkOfNormal float64  `json:"bulk_alone_of_normal"`
	// The flood: messages, their rate, and how many the lanes rule put in
	// bulk (the first ones, before the threshold, are normal).
	Flood     int     `json:"flood_messages"`
	FloodRate float64 `json:"flood_per_second"`
	FloodBulk int     `json:"flood_bulk"`
	// During it: another service's messages, 201 → e-mail SENT; a new
	// profile's validation e-mail (its 200 → SES) and its welcome messages
	// (priority, created → in the inbox, PROCESSED).
	Other      []float64 `json:"other_service_ms"`
	Validation []float64 `json:"validation_link_ms"`
	Welcome    []float64 `json:"welcome_ms"`
}

// measureLanes runs the bulk lane alone (n messages, as the closed loop),
// then the flood: flood messages from a second service at concurrency 8 (as
// the issue measured it), and 10 s into it, five messages of the bench's
// service and five new citizens, one a second.
func measureLanes(ctx context.Context, s *localstack.Stack, c client, admin string, citizens []string, n int, normal Pipeline) (LanesBench, error) {
	var r LanesBench
	var err error
	bulk := c
	bulk.lane = messages.LaneBulk
	if r.BulkAlone, _, err = pipeline(ctx, s, bulk, citizens, n, 16, 0); err != nil {
		return r, err
	}
	r.BulkOfNormal = r.BulkAlone.PerSecond / normal.PerSecond

	floodKey, err := provisionService(c, admin, "flood")
	if err != nil {
		return r, err
	}
	flooder := c
	flooder.key = floodKey
	r.Flood = 1200
	var subs []submission
	var span time.Duration
	var floodErr error
	var wg sync.WaitGroup
	wg.Go(func() { subs, span, floodErr = flooder.submit(r.Flood, 8, 0, citizens) })
	time.Sleep(10 * time.Second)
	msgs := store.NewMessages(dynamodb.NewFromConfig(s.Config), s.Resources.Refs["MessagesTable"])
	for i := range 5 {
		t0 := time.Now()
		fc := citizens[i]
		body, err := c.must(201, "POST", "/api/v1/messages/"+fc, benchMessage(fmt.Sprintf("Avviso urgente %d", i)), c.key)
		if err != nil {
			return r, err
		}
		id, _ := body["id"].(string)
		// A new citizen: the validation link and two welcome messages.
		citizen := fmt.Sprintf("LANESN80A01Y%03dX", i)
		sent := s.Stats()["HandleProfileEventFunction"].Requests["SESv2.SendEmail"]
		v0 := time.Now()
		if _, err := c.must(200, "POST", "/api/v1/profiles/"+citizen, fmt.Sprintf(`{"email":"new%d@example.com","is_inbox_enabled":true,"version":0}`, i), admin); err != nil {
			return r, err
		}
		if err := waitCount(s, "HandleProfileEventFunction", "SESv2.SendEmail", sent+1, time.Minute); err != nil {
			return r, err
		}
		r.Validation = append(r.Validation, ms(time.Since(v0)))
		if _, _, err := waitSent(ctx, s, []submission{{citizen: fc, id: id}}, time.Minute); err != nil {
			return r, err
		}
		m, err := msgs.Get(ctx, fc, id)
		if err != nil {
			return r, err
		}
		r.Other = append(r.Other, ms(m.Channels[messages.Email].UpdatedAt.Sub(t0)))
		time.Sleep(time.Until(t0.Add(time.Second)))
	}
	wg.Wait()
	if floodErr != nil {
		return r, floodErr
	}
	r.FloodRate = float64(r.Flood) / span.Seconds()
	for _, sb := range subs {
		if sb.lane == messages.LaneBulk {
			r.FloodBulk++
		}
	}
	// The welcome messages, from the inbox of each new citizen.
	for i := range 5 {
		citizen := fmt.Sprintf("LANESN80A01Y%03dX", i)
		var ws []submission
		for deadline := time.Now().Add(time.Minute); len(ws) < 2; time.Sleep(100 * time.Millisecond) {
			page, err := msgs.Inbox(ctx, citizen, paging.Request{Size: 10}, messages.InboxFilter{})
			if err != nil {
				return r, err
			}
			if ws = ws[:0]; time.Now().After(deadline) {
				return r, fmt.Errorf("%s: %d welcome messages in the inbox, want 2", citizen, len(page.Items))
			}
			for _, w := range page.Items {
				ws = append(ws, submission{citizen: citizen, id: w.ID})
			}
		}
		// A new citizen's address is not validated yet: the welcome
		// messages reach the inbox (PROCESSED), not the e-mail.
		for _, w := range ws {
			m, err := msgs.Get(ctx, w.citizen, w.id)
			if err != nil {
				return r, err
			}
			r.Welcome = append(r.Welcome, ms(m.StatusAt.Sub(m.CreatedAt)))
		}
	}
	_, _, err = waitSent(ctx, s, subs, 5*time.Minute) // the flood drains before the next measurement
	return r, err
}

// provisionService creates a service of dev@bench.local and returns its key.
func provisionService(c client, admin, id string) (string, error) {
	body := fmt.Sprintf(`{"service_id":%q,"service_name":"Campagna","organization_name":"Comune di Bench","department_name":"Tributi",
		"organization_fiscal_code":"00000000000","authorized_cidrs":[],"authorized_recipients":[]}`, id)
	if _, err := c.must(200, "POST", "/adm/services", body, admin); err != nil {
		return "", err
	}
	sub, err := c.must(200, "PUT", "/adm/users/dev@bench.local/subscriptions/"+id, `{"product_name":"IO"}`, admin)
	if err != nil {
		return "", err
	}
	key, _ := sub["primary_key"].(string)
	return key, nil
}
