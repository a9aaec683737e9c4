package npmfetch

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tgz(t *testing.T, files map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.tgz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(body))
	}
	_ = tw.Close()
	_ = gz.Close()
	_ = f.Close()
	return path
}

// Only the files under the prefix are unpacked, never outside dst.
func TestUntar(t *testing.T) {
	p := tgz(t, map[string]string{"package/dist/css/a.css": "a{}", "package/README.md": "readme", "package/dist/../../evil": "x"})
	dst := t.TempDir()
	if err := untar(p, "package/dist/", dst); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "css", "a.css")); err != nil || string(b) != "a{}" {
		t.Fatalf("a.css: %q %v", b, err)
	}
	entries, _ := os.ReadDir(dst)
	if len(entries) != 1 {
		t.Fatalf("unpacked %v, want css only", entries)
	}
}

// A package whose sha256 is not the pinned one is refused.
func TestCheckSHA256(t *testing.T) {
	p := tgz(t, map[string]string{"package/x": "x"})
	b, _ := os.ReadFile(p)
	sum := sha256.Sum256(b)
	if err := checkSHA256(p, hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	if err := checkSHA256(p, strings.Repeat("0", 64)); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("a changed package: %v", err)
	}
}
