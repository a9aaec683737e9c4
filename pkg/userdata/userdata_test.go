package userdata_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/emails"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/push"
	"github.com/digital-citizenship/functions/pkg/storetest"
	"github.com/digital-citizenship/functions/pkg/userdata"
	"github.com/digital-citizenship/functions/pkg/welcome"
)

const fc = "AAAAAA00A00A000A"

type holdings struct {
	data   map[string][]map[string]any
	erased int
}

func (h *holdings) Export(context.Context, string) (map[string][]map[string]any, error) {
	return h.data, nil
}
func (h *holdings) Erase(context.Context, string) error { h.erased++; return nil }

type devices struct{ gone []string }

func (d *devices) Unregister(_ context.Context, id string) error {
	d.gone = append(d.gone, id)
	return nil
}

type failingMailer struct {
	storetest.Mailer
	fails int
}

func (m *failingMailer) Send(ctx context.Context, e emails.Email) error {
	if m.fails > 0 {
		m.fails--
		return errors.New("SES down")
	}
	return m.Mailer.Send(ctx, e)
}

type world struct {
	now     time.Time
	st      *storetest.UserData
	profs   *storetest.Profiles
	files   *storetest.Files
	hold    *holdings
	devs    *devices
	mailer  *failingMailer
	msgs    *storetest.Messages
	created *storetest.Queue
	exp     userdata.Exporter
	era     userdata.Eraser
}

func newWorld(t *testing.T) *world {
	w := &world{now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), st: &storetest.UserData{}, files: &storetest.Files{},
		hold: &holdings{data: map[string][]map[string]any{"messages": {{"id": "01M"}, {"id": "01R", "sender_service_id": "comune",
			"content": map[string]any{"subject": "s", "third_party_data": map[string]any{"id": "ATTO-7"}}}}}}, devs: &devices{}, mailer: &failingMailer{},
		msgs: &storetest.Messages{}, created: &storetest.Queue{}}
	w.profs = &storetest.Profiles{Installations: &storetest.Installations{}}
	now := func() time.Time { return w.now }
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	w.exp = userdata.Exporter{Store: w.st, Holdings: w.hold, Files: w.files, Profiles: w.profs,
		Submitter: messages.Submitter{Store: w.msgs, Created: w.created, Now: now}, Service: welcome.PlatformService("io-platform"),
		Now: now, Log: quiet}
	w.era = userdata.Eraser{Store: w.st, Holdings: w.hold, Devices: w.devs, Files: w.files, Profiles: w.profs,
		Mailer: w.mailer, From: "noreply@io.it", Now: now, Log: quiet}
	ctx := context.Background()
	if err := w.profs.Create(ctx, profiles.Profile{FiscalCode: fc, Email: "a@b.it", IsEmailValidated: true, IsInboxEnabled: true,
		PreferredLanguages: []string{"en_GB"}}, nil); err != nil {
		t.Fatal(err)
	}
	return w
}

func pushInstallation(id string) push.Installation {
	return push.Installation{ID: id, FiscalCode: fc, Platform: push.APNS, EndpointARN: "arn:aws:sns:eu-south-1:1:endpoint/APNS/io/" + id}
}

func TestStart(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := userdata.Start(ctx, w.st, w.profs, "BBBBBB00B00B000B", userdata.Download, time.Hour, w.now); problem.KindOf(err) != problem.NotFound {
		t.Fatalf("no profile: %v", err)
	}
	d, err := userdata.Start(ctx, w.st, w.profs, fc, userdata.Download, time.Hour, w.now)
	if err != nil || d.Status != userdata.Pending || !d.DueAt.Equal(w.now) || d.View().DueAt != nil {
		t.Fatalf("download %+v %v", d, err)
	}
	del, err := userdata.Start(ctx, w.st, w.profs, fc, userdata.Delete, time.Hour, w.now)
	if err != nil || !del.DueAt.Equal(w.now.Add(time.Hour)) || del.View().DueAt == nil {
		t.Fatalf("delete %+v %v", del, err)
	}
	if _, err := userdata.Start(ctx, w.st, w.profs, fc, userdata.Delete, time.Hour, w.now); !errors.Is(err, userdata.ErrOpen) {
		t.Fatalf("a second open deletion: %v", err)
	}
	if _, err := userdata.Abort(ctx, w.st, fc, userdata.Download, w.now); !errors.Is(err, userdata.ErrNotAbortable) {
		t.Fatalf("abort a download: %v", err)
	}
	a, err := userdata.Abort(ctx, w.st, fc, userdata.Delete, w.now)
	if err != nil || a.Status != userdata.Aborted {
		t.Fatalf("abort %+v %v", a, err)
	}
	if _, err := userdata.Abort(ctx, w.st, fc, userdata.Delete, w.now); !errors.Is(err, userdata.ErrNotAbortable) {
		t.Fatalf("abort twice: %v", err)
	}
	// Once aborted, a new deletion can be asked for.
	if _, err := userdata.Start(ctx, w.st, w.profs, fc, userdata.Delete, time.Hour, w.now); err != nil {
		t.Fatal(err)
	}
	if _, err := userdata.ParseChoice([]byte(`{"choice":"EXPORT"}`)); problem.KindOf(err) != problem.Invalid {
		t.Fatalf("bad choice: %v", err)
	}
}

func TestExporter(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r, _ := userdata.Start(ctx, w.st, w.profs, fc, userdata.Download, time.Hour, w.now)
	if err := w.exp.Run(ctx, 10); err != nil {
		t.Fatal(err)
	}
	got, _ := w.st.Request(ctx, fc, userdata.Download)
	key := userdata.ArchivePrefix(fc) + r.ID + ".json"
	if got.Status != userdata.Closed || got.Archive != key || strings.Contains(key, fc) {
		t.Fatalf("request %+v", got)
	}
	var a userdata.Archive
	if err := json.Unmarshal(w.files.Files[key], &a); err != nil || a.FiscalCode != fc || a.Data["messages"][0]["id"] != "01M" {
		t.Fatalf("archive %s: %v", w.files.Files[key], err)
	}
	// The content of a message at its sender's: who holds it; and the notes.
	if len(a.HeldElsewhere) != 1 || a.HeldElsewhere[0].MessageID != "01R" || a.HeldElsewhere[0].ThirdPartyID != "ATTO-7" ||
		!strings.Contains(a.HeldElsewhere[0].HeldBy, "comune") || len(a.Notes) != len(userdata.ArchiveNotes) {
		t.Fatalf("held elsewhere %+v, notes %v", a.HeldElsewhere, a.Notes)
	}
	if len(w.created.Sent) != 1 {
		t.Fatalf("%d messages queued, want the download message", len(w.created.Sent))
	}
	var ev messages.CreatedEvent
	_ = json.Unmarshal(w.created.Sent[0], &ev)
	if ev.Message.FiscalCode != fc || !strings.Contains(ev.Content.Markdown, "https://files.example/"+key) ||
		!strings.HasPrefix(ev.Content.Subject, "Your data") {
		t.Fatalf("download message %+v", ev)
	}
	// Nothing is due any more.
	if err := w.exp.Run(ctx, 10); err != nil || len(w.created.Sent) != 1 {
		t.Fatalf("second run: %v, %d messages", err, len(w.created.Sent))
	}
}

func TestEraser(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := w.profs.Installations.Put(ctx, pushInstallation("iphone-1"), nil); err != nil {
		t.Fatal(err)
	}
	// An earlier download, closed, with its archive.
	if _, err := userdata.Start(ctx, w.st, w.profs, fc, userdata.Download, time.Hour, w.now); err != nil {
		t.Fatal(err)
	}
	if err := w.exp.Run(ctx, 10); err != nil {
		t.Fatal(err)
	}
	_ = w.files.Put(ctx, userdata.ArchivePrefix("BBBBBB00B00B000B")+"other.json", []byte("{}"))
	if _, err := userdata.Start(ctx, w.st, w.profs, fc, userdata.Delete, time.Hour, w.now); err != nil {
		t.Fatal(err)
	}
	// Not due during the grace period.
	if err := w.era.Run(ctx, 10); err != nil || w.hold.erased != 0 {
		t.Fatalf("erased during the grace period: %v", err)
	}
	w.now = w.now.Add(time.Hour)
	// The confirmation cannot be sent: nothing is erased, the request waits.
	w.mailer.fails = 1
	if err := w.era.Run(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.st.Request(ctx, fc, userdata.Delete); got.Status != userdata.WIP || got.Attempts != 1 || w.hold.erased != 0 {
		t.Fatalf("after a failed confirmation %+v, erased %d", got, w.hold.erased)
	}
	if err := w.era.Run(ctx, 10); err != nil {
		t.Fatal(err)
	}
	got, _ := w.st.Request(ctx, fc, userdata.Delete)
	if got.Status != userdata.Closed || !got.Confirmed || w.hold.erased != 1 {
		t.Fatalf("request %+v, erased %d", got, w.hold.erased)
	}
	if len(w.mailer.Sent) != 1 || w.mailer.Sent[0].To != "a@b.it" || !strings.HasPrefix(w.mailer.Sent[0].Subject, "Your data is being deleted") {
		t.Fatalf("confirmations %+v", w.mailer.Sent)
	}
	if len(w.devs.gone) != 1 || w.devs.gone[0] != "iphone-1" {
		t.Fatalf("devices unregistered %v", w.devs.gone)
	}
	if len(w.files.Files) != 1 {
		t.Fatalf("archives left %v, want only the other citizen's", w.files.Files)
	}
	if dl, _ := w.st.Request(ctx, fc, userdata.Download); dl.Status != userdata.Closed || dl.Archive != "" {
		t.Fatalf("the earlier download still offers its archive: %+v", dl)
	}
}

func TestExporter_GivesUp(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.files.Err = errors.New("S3 down")
	if _, err := userdata.Start(ctx, w.st, w.profs, fc, userdata.Download, time.Hour, w.now); err != nil {
		t.Fatal(err)
	}
	for range userdata.MaxAttempts + 2 {
		if err := w.exp.Run(ctx, 10); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := w.st.Request(ctx, fc, userdata.Download)
	if got.Status != userdata.Failed || got.Attempts != userdata.MaxAttempts || got.Reason == "" {
		t.Fatalf("request %+v", got)
	}
	// A failed request does not block a new one.
	if _, err := userdata.Start(ctx, w.st, w.profs, fc, userdata.Download, time.Hour, w.now); err != nil {
		t.Fatal(err)
	}
}
