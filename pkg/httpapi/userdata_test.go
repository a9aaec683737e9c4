package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/userdata"
)

func TestUserDataProcessing(t *testing.T) {
	w := newWorld(t)
	app := caller("svc", auth.ProfileWrite, auth.FullProfileRead)
	base := "/api/v1/user-data-processing/" + fc
	wantProblem(t, w.do(t, app, "POST", base, `{"choice":"DOWNLOAD"}`), 404, "Profile not found")
	w.do(t, app, "POST", "/api/v1/profiles/"+fc, `{"email":"a@b.it","is_inbox_enabled":true,"version":0}`)
	wantProblem(t, w.do(t, app, "POST", base, `{"choice":"EVERYTHING"}`), 400, userdata.Title)
	wantProblem(t, w.do(t, app, "POST", base, `{}`), 400, userdata.Title)
	wantProblem(t, w.do(t, app, "GET", base+"/EVERYTHING", ""), 400, "Invalid UserDataProcessingChoice")
	wantProblem(t, w.do(t, app, "GET", base+"/DOWNLOAD", ""), 404, "Not found")

	r := w.do(t, app, "POST", base, `{"choice":"DOWNLOAD"}`)
	if r.Status != 200 || r.Body["status"] != "PENDING" || r.Body["choice"] != "DOWNLOAD" || r.Body["due_at"] != nil {
		t.Fatalf("download: %d %s", r.Status, r.Raw)
	}
	wantProblem(t, w.do(t, app, "POST", base, `{"choice":"DOWNLOAD"}`), 409, "Conflict")
	wantProblem(t, w.do(t, app, "DELETE", base+"/DOWNLOAD", ""), 409, "Conflict")

	// Closed, the download offers a fresh link to its archive.
	ctx := context.Background()
	req, _ := w.userData.Request(ctx, fc, userdata.Download)
	req.Status, req.Archive, req.UpdatedAt = userdata.Closed, "exports/x/1.json", time.Now()
	if err := w.userData.Update(ctx, req, userdata.Pending); err != nil {
		t.Fatal(err)
	}
	if r := w.do(t, app, "GET", base+"/DOWNLOAD", ""); r.Status != 200 || r.Body["status"] != "CLOSED" ||
		!strings.HasPrefix(r.Body["download_url"].(string), "https://files.example/exports/x/1.json") {
		t.Fatalf("closed download: %d %s", r.Status, r.Raw)
	}

	r = w.do(t, app, "POST", base, `{"choice":"DELETE"}`)
	if r.Status != 200 || r.Body["status"] != "PENDING" || r.Body["due_at"] == nil {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	if r := w.do(t, app, "DELETE", base+"/DELETE", ""); r.Status != 200 || r.Body["status"] != "ABORTED" {
		t.Fatalf("abort: %d %s", r.Status, r.Raw)
	}
	if r := w.do(t, app, "GET", base+"/DELETE", ""); r.Body["status"] != "ABORTED" || r.Body["due_at"] != nil {
		t.Fatalf("aborted: %s", r.Raw)
	}
	wantProblem(t, w.do(t, app, "DELETE", base+"/DELETE", ""), 409, "Conflict")
}
