package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/receipts"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

// TestReceiptVerify: a receipt verifies against the published keys (a
// file, or the API's anonymous URL), also wrapped in the API's answer, and
// against the content delivered; a receipt of another key, or another
// content, does not (exit 4).
func TestReceiptVerify(t *testing.T) {
	dir := t.TempDir()
	signer, other := storetest.NewSigner("k1"), storetest.NewSigner("k1")
	content := messages.Content{Subject: "Notifica del verbale n. 42", Markdown: strings.Repeat("Il testo del verbale. ", 5)}
	jws, err := receipts.Sign(context.Background(), signer, receipts.Payload{Version: 1, Event: receipts.Opened, MessageID: "01MSG",
		Content: receipts.Content{Digest: receipts.ContentDigest(content)}})
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, v any) string {
		b, _ := json.Marshal(v)
		if s, ok := v.(string); ok {
			b = []byte(s)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keys, wrongKeys := write("keys.json", signer.JWKS()), write("other.json", other.JWKS())
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/receipts/keys" || r.Header.Get("Ocp-Apim-Subscription-Key") != "" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(signer.JWKS())
	}))
	defer api.Close()
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		cmd := root()
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), err
	}
	plain, wrapped := write("receipt.jws", jws), write("answer.json", map[string]string{"receipt": jws, "event": receipts.Opened})
	msg := write("message.json", map[string]any{"message": map[string]any{"content": content}})
	for _, args := range [][]string{
		{"receipt", "verify", plain, "--keys", keys},
		{"receipt", "verify", wrapped, "--keys", keys, "--content", msg},
		{"receipt", "verify", plain, "--api", api.URL},
	} {
		if out, err := run(args...); err != nil || !strings.Contains(out, "VALID: message.opened of message 01MSG") {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	changed := content
	changed.Markdown += " Un'altra riga."
	for name, args := range map[string][]string{
		"another key":     {"receipt", "verify", plain, "--keys", wrongKeys},
		"another content": {"receipt", "verify", plain, "--keys", keys, "--content", write("changed.json", changed)},
	} {
		_, err := run(args...)
		var ex exitError
		if !errors.As(err, &ex) || ex.code != exitInvalid || !strings.HasPrefix(ex.msg, "INVALID") {
			t.Fatalf("%s: %v", name, err)
		}
	}
}
