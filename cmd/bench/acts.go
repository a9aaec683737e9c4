package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/localstack"
)

// ActsBench is what notifying acts cost: the AWS requests of a submission
// with third_party_data, of an opening (its receipt signed and kept, its
// callback queued) of a message and of a message with remote content, and
// of a read of remote content, with the latency the platform adds to it
// (the local sender's system answers at once).
type ActsBench struct {
	SubmitThirdParty map[string]int `json:"submit_with_third_party_data"`
	Opening          map[string]int `json:"opening"`
	RemoteOpening    map[string]int `json:"remote_opening"`
	RemoteFetch      map[string]int `json:"remote_fetch"`
	Fetches          int            `json:"fetches"`
	FetchLatency     Latency        `json:"remote_fetch_latency"`
}

// sum is a function's requests, of every operation.
func sum(ops map[string]int) int {
	n := 0
	for _, v := range ops {
		n += v
	}
	return n
}

// describe is "n: Op×k Op×k" for a table.
func describe(ops map[string]int) string {
	var parts []string
	for _, op := range sortedKeys(ops) {
		parts = append(parts, fmt.Sprintf("%s×%d", op, ops[op]))
	}
	return fmt.Sprintf("%d: %s", sum(ops), strings.Join(parts, " "))
}

// measureActs measures the acts' requests and the remote fetch's latency
// (fetches reads), the service with a remote-content configuration of the
// local sender's system and a callback for message.opened.
func measureActs(ctx context.Context, s *localstack.Stack, c client, admin string, citizens []string, fetches int) (ActsBench, error) {
	b := ActsBench{Fetches: fetches}
	if _, err := c.must(200, "PUT", "/api/v1/callback", fmt.Sprintf(`{"url":%q,"events":["message.opened"]}`, s.Callbacks.URL()), c.key); err != nil {
		return b, err
	}
	defer func() { _, _, _ = c.do("DELETE", "/api/v1/callback", "", c.key) }()
	cfg, err := c.must(201, "POST", "/api/v1/remote-contents/configurations", fmt.Sprintf(`{"name":"Bench","description":"Bench",
		"has_precondition":"NONE","prod_environment":{"base_url":%q,"details_authentication":{"header_key_name":"X-Key","key":"k","type":"API_KEY"}}}`,
		s.RemoteContent.URL()), c.key)
	if err != nil {
		return b, err
	}
	if err := s.RemoteContent.Set("BENCH-1", localstack.RemoteMessage{Details: map[string]any{"subject": "Atto di accertamento, bench",
		"markdown": strings.Repeat("Il testo dell'atto, presso il sistema del mittente. ", 3)}}); err != nil {
		return b, err
	}
	remote := fmt.Sprintf(`{"content":{"subject":"Hai ricevuto un atto","markdown":%q,"third_party_data":{"id":"BENCH-1",
		"configuration_id":%q,"has_remote_content":true}}}`, strings.Repeat("Il contenuto è presso il mittente. ", 3), cfg["configuration_id"])
	submit := func(body string) (string, error) {
		r, err := c.must(201, "POST", "/api/v1/messages/"+citizens[0], body, c.key)
		if err != nil {
			return "", err
		}
		id, _ := r["id"].(string)
		return "/api/v1/messages/" + citizens[0] + "/" + id, waitStatus(ctx, c, "/api/v1/messages/"+citizens[0]+"/"+id)
	}
	plain := benchMessage("Notifica di un atto, bench")
	warm, err := submit(remote) // every function of the path started, the authorizer's answer cached
	if err != nil {
		return b, err
	}
	s.ResetStats()
	remoteMsg, err := submit(remote)
	if err != nil {
		return b, err
	}
	time.Sleep(300 * time.Millisecond)
	b.SubmitThirdParty = s.Stats()["SubmitMessageFunction"].Requests
	delete(b.SubmitThirdParty, "DynamoDB.BatchGetItem") // the day's counters, at most once a second
	first, err := submit(plain)
	if err != nil {
		return b, err
	}
	second, err := submit(plain)
	if err != nil {
		return b, err
	}
	count := func(fn string, do func() error) (map[string]int, error) {
		time.Sleep(300 * time.Millisecond)
		s.ResetStats()
		if err := do(); err != nil {
			return nil, err
		}
		time.Sleep(300 * time.Millisecond) // the last request lines reach the stack
		return s.Stats()[fn].Requests, nil
	}
	open := func(loc string) func() error {
		return func() error { _, err := c.must(200, "POST", loc+"/opening", "", admin); return err }
	}
	// The first opening of an environment derives the recipients' hash key
	// (one KMS request); the second is what every other one costs.
	if err := open(first)(); err != nil {
		return b, err
	}
	if err := open(warm)(); err != nil {
		return b, err
	}
	if b.Opening, err = count("RecordOpeningFunction", open(second)); err != nil {
		return b, err
	}
	if b.RemoteOpening, err = count("RecordOpeningFunction", open(remoteMsg)); err != nil {
		return b, err
	}
	read := strings.Replace(remoteMsg, "/api/v1/messages/", "/api/v1/third-party-messages/", 1)
	lat := make([]time.Duration, 0, fetches)
	b.RemoteFetch, err = count("GetThirdPartyMessageFunction", func() error {
		for range fetches {
			t0 := time.Now()
			if _, err := c.must(200, "GET", read, "", admin); err != nil {
				return err
			}
			lat = append(lat, time.Since(t0))
		}
		return nil
	})
	if err != nil {
		return b, err
	}
	for op := range b.RemoteFetch {
		b.RemoteFetch[op] /= fetches
	}
	b.FetchLatency = distribution(lat)
	return b, nil
}

// waitStatus polls a message until it is processed (or final).
func waitStatus(ctx context.Context, c client, loc string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		m, err := c.must(200, "GET", loc, "", c.key)
		if err != nil {
			return err
		}
		switch m["status"] {
		case "PROCESSED":
			return nil
		case "REJECTED", "FAILED":
			return fmt.Errorf("%s is %v", loc, m["status"])
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not processed within a minute", loc)
}
