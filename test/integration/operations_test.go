package integration

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer/coffer/internal/server"
)

// adminGet fetches a path of the admin listener.
func (e *env) adminGet(path string) (int, string) {
	e.t.Helper()
	resp, err := http.Get(e.srv.AdminURL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scrape reads /metrics into series → value, checking that every line is a comment or a
// sample.
func (e *env) scrape() (map[string]float64, string) {
	e.t.Helper()
	status, text := e.adminGet("/metrics")
	if status != http.StatusOK {
		e.t.Fatalf("/metrics: %d %s", status, text)
	}
	series := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			e.t.Fatalf("/metrics line %q is no sample", line)
		}
		series[line[:i]] = v
	}
	return series, text
}

// TestOperatorEndpoints drives S3 and KMS with real clients, then checks what an operator
// sees: the series of /metrics that moved, /healthz, /readyz turning 503 when the blob store
// is gone and 200 when it is back, and JSON log lines carrying the request id of a response.
func TestOperatorEndpoints(t *testing.T) {
	var logs syncBuffer
	dir := t.TempDir()
	e := startServerWith(t, server.Config{Dir: dir, AdminListen: "127.0.0.1:0",
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	c := ctx(t)
	const bucket, secretKeyName = "ops-metrics-bucket", "private/object-name"
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String(bucket)}))
	body := strings.Repeat("x", 20<<10) // above object.InlineMax: kept in a blob
	for range 2 {
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(secretKeyName), Body: strings.NewReader(body)}))
	}
	_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("missing")})
	wantAPIError(t, err, "NoSuchKey", http.StatusNotFound)
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.ServiceRequestID() == "" {
		t.Fatalf("no request id in %v", err)
	}
	missingID := re.ServiceRequestID()

	k := e.kms()
	key := must[*kms.CreateKeyOutput](t)(k.CreateKey(c, &kms.CreateKeyInput{}))
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("sse-kms"),
		Body: strings.NewReader(body), ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: key.KeyMetadata.KeyId}))
	_, err = k.Encrypt(c, &kms.EncryptInput{KeyId: aws.String("alias/no-such-alias"), Plaintext: []byte("x")})
	if err == nil {
		t.Fatal("Encrypt under a missing alias succeeded")
	}

	series, text := e.scrape()
	for _, tc := range []struct {
		series string
		want   float64
	}{
		{`coffer_requests_total{api="s3",operation="CreateBucket",code="OK"}`, 1},
		{`coffer_requests_total{api="s3",operation="PutObject",code="OK"}`, 3},
		{`coffer_requests_total{api="s3",operation="GetObject",code="NoSuchKey"}`, 1},
		{`coffer_requests_total{api="kms",operation="CreateKey",code="OK"}`, 1},
		{`coffer_requests_total{api="kms",operation="Encrypt",code="NotFoundException"}`, 1},
		{`coffer_kms_calls_total{caller="api",operation="Encrypt",result="NotFoundException"}`, 1},
		{`coffer_kms_calls_total{caller="s3",operation="GenerateDataKey",result="OK"}`, 1},
		{`coffer_request_duration_seconds_count{api="s3",operation="PutObject"}`, 3},
		{`coffer_request_duration_seconds_bucket{api="s3",operation="PutObject",le="+Inf"}`, 3},
		{`coffer_store_duration_seconds_count{store="meta",operation="PutObject"}`, 3},
	} {
		if got, ok := series[tc.series]; !ok || got != tc.want {
			t.Errorf("%s = %v (present %v), want %v", tc.series, got, ok, tc.want)
		}
	}
	if got := series[`coffer_request_bytes_total{api="s3"}`]; got < 3*float64(len(body)) {
		t.Errorf("request bytes %v, want at least the three bodies put", got)
	}
	if got := series[`coffer_store_duration_seconds_count{store="kms",operation="CreateKey"}`]; got < 1 {
		t.Errorf("no KMS store CreateKey timed: %v", got)
	}
	if got := series[`coffer_store_duration_seconds_count{store="blob",operation="Put"}`]; got < 1 {
		t.Errorf("no blob Put timed: %v", got)
	}
	for _, cache := range []string{"iam_credentials", "kms_keys", "kms_grants", "kms_aliases", "kms_key_policies", "bucket_keys", "bucket_policies"} {
		for _, name := range []string{"coffer_cache_hits_total", "coffer_cache_misses_total"} {
			if _, ok := series[name+`{cache="`+cache+`"}`]; !ok {
				t.Errorf("no %s for cache %s", name, cache)
			}
		}
	}
	// The SSE-KMS PUT and the KMS calls were authorized under key policies, and the alias
	// named by the failed Encrypt was looked up.
	for _, cache := range []string{"kms_key_policies", "kms_aliases"} {
		if n := series[`coffer_cache_hits_total{cache="`+cache+`"}`] + series[`coffer_cache_misses_total{cache="`+cache+`"}`]; n < 1 {
			t.Errorf("cache %s saw no lookup", cache)
		}
	}
	for _, leak := range []string{bucket, secretKeyName, aws.ToString(key.KeyMetadata.KeyId), testAccessKey} {
		if strings.Contains(text, leak) {
			t.Errorf("/metrics names %q: label values must come from fixed sets", leak)
		}
	}

	t.Run("logs", func(t *testing.T) {
		found := false
		for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line is not JSON: %v: %s", err, line)
			}
			if rec["request_id"] == missingID && rec["msg"] == "request" {
				found = true
				if rec["operation"] != "GetObject" || rec["code"] != "NoSuchKey" || rec["status"] != float64(404) {
					t.Errorf("request line of the missing GET: %s", line)
				}
			}
		}
		if !found {
			t.Errorf("no log line carries request id %s", missingID)
		}
	})

	t.Run("health", func(t *testing.T) {
		if status, b := e.adminGet("/healthz"); status != http.StatusOK || b != "ok\n" {
			t.Errorf("/healthz: %d %q", status, b)
		}
		if status, b := e.adminGet("/readyz"); status != http.StatusOK || !strings.Contains(b, "meta: ok") || !strings.Contains(b, "blobs: ok") {
			t.Errorf("/readyz: %d %q", status, b)
		}
		// The blob directory goes away (an unmounted volume, say): not ready, and the answer
		// says which store failed. It comes back: ready again.
		blobs, moved := filepath.Join(dir, "blobs"), filepath.Join(dir, "blobs.away")
		if err := os.Rename(blobs, moved); err != nil {
			t.Fatal(err)
		}
		status, b := e.adminGet("/readyz")
		if err := os.Rename(moved, blobs); err != nil {
			t.Fatal(err)
		}
		if status != http.StatusServiceUnavailable || !strings.Contains(b, "blobs: failed") || !strings.Contains(b, "meta: ok") {
			t.Errorf("/readyz without the blob directory: %d %q", status, b)
		}
		if strings.Contains(b, dir) {
			t.Errorf("/readyz names a path: %q", b)
		}
		if status, b := e.adminGet("/readyz"); status != http.StatusOK {
			t.Errorf("/readyz once the blob directory is back: %d %q", status, b)
		}
	})
}
