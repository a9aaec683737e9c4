package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSend_RefusesResultsOfAnotherFile: a results file whose lines name
// other citizens than the CSV's (the file changed since) is not resumed.
func TestSend_RefusesResultsOfAnotherFile(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "a.csv")
	md := "Gentile cittadino, è disponibile il nuovo avviso di pagamento della TARI per il 2026: paga entro la scadenza."
	if err := os.WriteFile(csvPath, []byte("fiscal_code,subject,markdown\nSPNDNL80R13C555X,Avviso TARI 2026,\""+md+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(csvPath+".results.csv", []byte("line,fiscal_code,message_id,error\n2,RSSMRA80A01H501U,01M,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := root()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"send", "--csv", csvPath, "--api", "http://127.0.0.1:1", "--key", "k"})
	err := cmd.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the file changed since") {
		t.Fatalf("got %v\n%s", err, out.String())
	}
}
