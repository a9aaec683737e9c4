package awstest

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/npmfetch"
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
// (the repository's .cache/dynamodb-local), fetching the pinned package the
// first time (npmfetch: its sha256 checked, the emulator folder unpacked).
func DynamoDBLocalDir(cache string) (string, error) {
	return npmfetch.Fetch(cache, "", npmfetch.Package{Name: DynamoDBLocalPackage, Version: DynamoDBLocalVersion,
		SHA256: DynamoDBLocalSHA256, Prefix: "package/emulator/", Want: "DynamoDBLocal.jar"})
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
