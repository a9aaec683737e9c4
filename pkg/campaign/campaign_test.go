package campaign

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/apiclient"
	"github.com/digital-citizenship/functions/pkg/ids"
)

const md = "Gentile cittadino, è disponibile il nuovo avviso di pagamento della TARI per il 2026: paga entro la scadenza."

func TestRead_ReportsEveryBadRowWithItsLine(t *testing.T) {
	csv := "fiscal_code,subject,markdown,amount,notice_number\n" +
		"SPNDNL80R13C555X,Avviso TARI 2026,\"" + md + "\",,\n" +
		"not-a-code,Avviso TARI 2026,\"" + md + "\",,\n" +
		"\n" +
		"spndnl80r13c555x,short,\"" + md + "\",,\n" +
		"SPNDNL80R13C555X,Avviso TARI 2026,\"" + md + "\",12x,\n" +
		"SPNDNL80R13C555X,Avviso TARI 2026,\"" + md + "\",1200,012345678901234567\n" +
		"SPNDNL80R13C555X,Avviso TARI 2026\n"
	rows, bad, err := Read(strings.NewReader(csv), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{3: "not a fiscal code", 5: "subject", 6: "amount", 8: "2 fields"}
	if len(bad) != len(want) {
		t.Fatalf("bad rows %v", bad)
	}
	for _, b := range bad {
		if !strings.Contains(b.Reason, want[b.Line]) {
			t.Errorf("line %d: %q, want it to mention %q", b.Line, b.Reason, want[b.Line])
		}
	}
	if len(rows) != 2 || rows[0].Line != 2 || rows[1].Line != 7 || !strings.Contains(string(rows[1].Body), `"amount":1200`) {
		t.Fatalf("rows %+v", rows)
	}
	// Keys: deterministic for the same file, different per row and per file.
	again, _, _ := Read(strings.NewReader(csv), nil)
	other, _, _ := Read(strings.NewReader(csv+"\n"), nil)
	if again[0].Key != rows[0].Key || rows[0].Key == rows[1].Key || other[0].Key == rows[0].Key {
		t.Fatalf("keys %s %s %s %s", rows[0].Key, again[0].Key, rows[1].Key, other[0].Key)
	}
}

func TestRead_Template(t *testing.T) {
	tmpl, err := ParseTemplate("TARI {{year}}: avviso di pagamento\nGentile {{name}}, è disponibile l'avviso della TARI {{year}}. " + md)
	if err != nil {
		t.Fatal(err)
	}
	rows, bad, err := Read(strings.NewReader("fiscal_code,name,year\nSPNDNL80R13C555X,Daniele,2026\n"), &tmpl)
	if err != nil || len(bad) != 0 || len(rows) != 1 || !strings.Contains(string(rows[0].Body), "Gentile Daniele") ||
		!strings.Contains(string(rows[0].Body), `"subject":"TARI 2026: avviso di pagamento"`) {
		t.Fatalf("%v %v %+v", err, bad, rows)
	}
	_, bad, _ = Read(strings.NewReader("fiscal_code,name\nSPNDNL80R13C555X,Daniele\n"), &tmpl)
	if len(bad) != 1 || !strings.Contains(bad[0].Reason, "year") {
		t.Fatalf("missing column: %v", bad)
	}
}

// TestSend_RetriesWithItsKey: a row's request follows Retry-After, backs
// off on a 5xx (its Idempotency-Key makes it safe to repeat) and is sent
// again whole; a 400 is final, its problem the row's error.
func TestSend_RetriesWithItsKey(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
		case 2:
			w.WriteHeader(429)
		case 3:
			w.WriteHeader(503)
		case 4:
			if r.Header.Get("Idempotency-Key") != "k" || r.Header.Get(apiclient.KeyHeader) != "x" || r.Header.Get("X-Lane") != "bulk" {
				t.Errorf("key %q, subscription key %q, lane %q", r.Header.Get("Idempotency-Key"), r.Header.Get(apiclient.KeyHeader), r.Header.Get("X-Lane"))
			}
			if b, _ := io.ReadAll(r.Body); string(b) != `{"fiscal_code":"SPNDNL80R13C555X"}` {
				t.Errorf("body %q", b)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			_, _ = w.Write([]byte(`{"id":"01M"}`))
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"title":"Invalid","detail":"no","status":400}`))
		}
	}))
	defer srv.Close()
	var throttled atomic.Int32
	c, err := apiclient.New(srv.URL, apiclient.Options{Key: "x", Attempts: 5, MaxWait: 50 * time.Millisecond, Throttled: func() { throttled.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Send(context.Background(), c, []Row{{Line: 2, Key: "k", Body: []byte(`{"fiscal_code":"SPNDNL80R13C555X"}`)}}, 1, "bulk", nil)
	if err != nil || len(rs) != 1 || rs[0].MessageID != "01M" || throttled.Load() != 2 {
		t.Fatalf("%v %+v, throttled %d", err, rs, throttled.Load())
	}
	rs, _ = Send(context.Background(), c, []Row{{Line: 3, Key: "k2"}}, 1, "bulk", nil)
	if len(rs) != 1 || rs[0].Error != "HTTP 400 Invalid: no" || calls.Load() != 5 {
		t.Fatalf("%+v after %d calls", rs, calls.Load())
	}
}

func TestResults_JournalSurvivesAPartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = j.Add(Result{Line: 2, FiscalCode: "A", MessageID: "01A"})
	_ = j.Add(Result{Line: 3, FiscalCode: "B", Error: "HTTP 400"})
	_ = j.Add(Result{Line: 3, FiscalCode: "B", MessageID: "01B"}) // a resumed run
	_ = j.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString("4,C,\"01")
	_ = f.Close()
	recs, err := ReadResults(path)
	if err != nil || len(recs) != 2 || recs[1].MessageID != "01B" {
		t.Fatalf("%v %+v", err, recs)
	}
}

// TestPoll_ReadsTheList: the statuses of 1,000 messages come from 10 pages
// of the list, between the first and last message's creation times; a key
// that may not list reads each message instead (1,000 requests).
func TestPoll_ReadsTheList(t *testing.T) {
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	var records []Record
	for i := range 1000 {
		id := ids.ULID(start.Add(time.Duration(i) * time.Millisecond))
		records = append(records, Record{Result: Result{Line: i + 2, FiscalCode: "SPNDNL80R13C555X", MessageID: id}})
	}
	sorted := slices.Clone(records)
	slices.SortFunc(sorted, func(a, b Record) int { return strings.Compare(b.MessageID, a.MessageID) })
	for _, listing := range []bool{true, false} {
		var pages, singles atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == "/api/v1/messages" {
				pages.Add(1)
				if !listing {
					w.Header().Set("Content-Type", "application/problem+json")
					w.WriteHeader(403)
					_, _ = w.Write([]byte(`{"title":"You are not allowed here","status":403,"detail":"no"}`))
					return
				}
				q := r.URL.Query()
				if q.Get("since") != "2026-12-06T10:00:00Z" || q.Get("until") != "2026-12-06T10:00:01Z" || q.Get("page_size") != "100" {
					t.Errorf("since %s until %s page_size %s", q.Get("since"), q.Get("until"), q.Get("page_size"))
				}
				from, _ := strconv.Atoi(q.Get("cursor"))
				page := map[string]any{"page_size": 100}
				var items []map[string]any
				for _, rec := range sorted[from:min(from+100, len(sorted))] {
					items = append(items, map[string]any{"id": rec.MessageID, "status": "PROCESSED", "notification": map[string]string{"email": "SENT"}})
				}
				page["items"] = items
				if from+100 < len(sorted) {
					q.Set("cursor", strconv.Itoa(from+100))
					page["next"] = "/api/v1/messages?" + q.Encode()
				}
				_ = json.NewEncoder(w).Encode(page)
				return
			}
			singles.Add(1)
			_, _ = w.Write([]byte(`{"status":"REJECTED","rejection_reason":"USER_NOT_FOUND"}`))
		}))
		recs := slices.Clone(records)
		c, err := apiclient.New(srv.URL, apiclient.Options{Key: "k"})
		if err != nil {
			t.Fatal(err)
		}
		st, err := Poll(context.Background(), c, recs, 8, nil)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		s := Summarize(recs)
		switch {
		case listing && (st != PollStats{Pages: 10} || pages.Load() != 10 || singles.Load() != 0 ||
			s.ByStatus["PROCESSED"] != 1000 || s.Channels["email SENT"] != 1000):
			t.Fatalf("listing: %+v, %d pages, %d singles, %+v", st, pages.Load(), singles.Load(), s)
		case !listing && (st != PollStats{Pages: 1, Singles: 1000} || s.Rejected["USER_NOT_FOUND"] != 1000):
			t.Fatalf("not listing: %+v, %+v", st, s)
		}
		t.Logf("1,000 messages: %d requests (listing: %v)", st.Requests(), listing)
	}
}

func TestParseAtAndSchedule(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]string{"+2m": "2026-12-06T10:02:00Z", "2026-12-06T12:00:00+01:00": "2026-12-06T11:00:00Z",
		"+30s": "", "+8d": "", "+200h": "", "2026-12-06T10:00:30Z": "", "tomorrow": ""} {
		at, err := ParseAt(in, now)
		if got := ""; err == nil {
			got = at.Format(time.RFC3339)
			if got != want {
				t.Errorf("ParseAt(%s) = %s, want %s", in, got, want)
			}
		} else if want != "" {
			t.Errorf("ParseAt(%s): %v", in, err)
		}
	}
	rows := []Row{{Line: 2, Body: []byte(`{"fiscal_code":"X"}`), Key: "dcp:abc:2"}}
	Schedule(rows, now.Add(time.Hour))
	if string(rows[0].Body) != `{"scheduled_at":"2026-12-06T11:00:00.000Z","fiscal_code":"X"}` || rows[0].Key != "dcp:abc:2:at20261206T110000.000Z" {
		t.Fatalf("scheduled row %s %s", rows[0].Body, rows[0].Key)
	}
}
