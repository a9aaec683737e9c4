package awstest

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The official DynamoDB Local, as the npm package amplify-dynamodb-simulator
// ships it (emulator/DynamoDBLocal.jar, DynamoDB Local 1.25.1). Pinned by
// version and by the sha256 of the package, checked before anything is used.
const (
	DynamoDBLocalPackage = "amplify-dynamodb-simulator"
	DynamoDBLocalVersion = "2.9.30"
	DynamoDBLocalSHA256  = "3503ffac19f183407909fecdacf4db51ab1fdad1da7b2f177016670b2d80e4b9"
)

// DynamoDBLocalDir returns the folder holding DynamoDBLocal.jar under cache
// (the repository's .cache/dynamodb-local), fetching it the first time: npm
// pack downloads the package, its sha256 is checked, and the emulator folder
// is unpacked. Concurrent callers (test packages run in parallel) wait on a
// lock file, so the fetch happens once.
func DynamoDBLocalDir(cache string) (string, error) {
	cache, err := filepath.Abs(cache)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, DynamoDBLocalVersion)
	jar := filepath.Join(dir, "DynamoDBLocal.jar")
	if _, err := os.Stat(jar); err == nil {
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
	if _, err := os.Stat(jar); err == nil { // fetched while we waited
		return dir, nil
	}
	tmp, err := os.MkdirTemp(cache, "fetch-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	npm := exec.Command("npm", "pack", "--silent", DynamoDBLocalPackage+"@"+DynamoDBLocalVersion, "--pack-destination", tmp)
	npm.Dir = tmp
	if out, err := npm.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm pack %s@%s: %w: %s", DynamoDBLocalPackage, DynamoDBLocalVersion, err, out)
	}
	tgz := filepath.Join(tmp, DynamoDBLocalPackage+"-"+DynamoDBLocalVersion+".tgz")
	if err := checkSHA256(tgz, DynamoDBLocalSHA256); err != nil {
		return "", err
	}
	staged := filepath.Join(tmp, "emulator")
	if err := untar(tgz, "package/emulator/", staged); err != nil {
		return "", fmt.Errorf("unpack %s: %w", tgz, err)
	}
	if _, err := os.Stat(filepath.Join(staged, "DynamoDBLocal.jar")); err != nil {
		return "", fmt.Errorf("%s@%s has no emulator/DynamoDBLocal.jar", DynamoDBLocalPackage, DynamoDBLocalVersion)
	}
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
		return fmt.Errorf("%s: sha256 %s, want %s (the pinned package changed: refusing to run it)", filepath.Base(path), got, want)
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

// StartDynamoDBLocal starts the official DynamoDB Local (in memory, one
// database for every access key and region) on 127.0.0.1:port (0 picks a
// free port) from the jar in cache, fetching it if needed. A missing Java
// or npm is an error, never a skip.
func StartDynamoDBLocal(cache string, port int) (*Emulator, error) {
	dir, err := DynamoDBLocalDir(cache)
	if err != nil {
		return nil, err
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("java is not installed (DynamoDB Local needs Java 17): %w", err)
	}
	return startWithRetry(port, func(p int) (*Emulator, error) {
		cmd := exec.Command(java, "-Xms64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
			"-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
			"-jar", filepath.Join(dir, "DynamoDBLocal.jar"), "-inMemory", "-sharedDb", "-port", fmt.Sprint(p))
		cmd.Dir = dir
		return startProcess(cmd, p, "DynamoDB Local", dynamoDBReady)
	})
}

// dynamoDBReady is true when DynamoDB Local answers a request with its own
// error shape (another server holding the port does not count).
func dynamoDBReady(endpoint string) bool {
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/eu-south-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	c := http.Client{Timeout: 2 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return strings.Contains(string(b), "TableNames") || strings.Contains(string(b), "com.amazonaws.dynamodb")
}
