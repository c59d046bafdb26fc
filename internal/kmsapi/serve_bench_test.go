package kmsapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/audit/audittest"
)

// discardResponse is a ResponseWriter that keeps the status and drops the body.
type discardResponse struct {
	h      http.Header
	status int
}

func (d *discardResponse) Header() http.Header         { return d.h }
func (d *discardResponse) WriteHeader(status int)      { d.status = status }
func (d *discardResponse) Write(b []byte) (int, error) { return len(b), nil }

// openBenchWriter opens a real audit Writer under dir with the server's default flush policy
// (each record written before the answer, flushed within 20 ms).
func openBenchWriter(b *testing.B, dir string) *audit.Writer {
	signer, err := audit.OpenSigner(ctx(), filepath.Join(dir, "audit"), audittest.NewSealer())
	if err != nil {
		b.Fatal(err)
	}
	w, err := audit.Open(ctx(), audit.Config{Dir: filepath.Join(dir, "audit"), Region: testRegion, AccountID: testAccount,
		Signer: signer, SyncEvery: 20 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close(ctx()) })
	return w
}

// signedRequest is a SigV4-signed KMS request for target with body, as if received over TLS 1.3.
func signedRequest(b *testing.B, target string, body []byte) *http.Request {
	r, err := http.NewRequest(http.MethodPost, "https://127.0.0.1:9000/", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("X-Amz-Target", targetPrefix+target)
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.47.7 os/linux lang/go#1.26 api/kms#1.62.4")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: testAccess, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(ctx(), creds, r, hex.EncodeToString(sum[:]), "kms", testRegion, time.Now()); err != nil {
		b.Fatal(err)
	}
	r.RemoteAddr = "127.0.0.1:40000"
	r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256}
	return r
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServe measures the handler alone — SigV4, the call, its audit record kept by a real
// Writer, the JSON answer — without TLS, sockets or net/http: the server's own work per
// request, and its allocations.
func BenchmarkServe(b *testing.B) {
	dir := b.TempDir()
	e := newRecordedEnv(b, openBenchWriter(b, dir))
	h := e.srv.Config.Handler
	id := e.createKey(b, nil)
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::coffer-bench/object"}
	dk, err := e.client.GenerateDataKey(ctx(), &awskms.GenerateDataKeyInput{KeyId: &id, KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		b.Fatal(err)
	}
	gdk, _ := json.Marshal(map[string]any{"KeyId": id, "KeySpec": "AES_256", "EncryptionContext": ec})
	dec, _ := json.Marshal(map[string]any{"KeyId": id, "CiphertextBlob": base64.StdEncoding.EncodeToString(dk.CiphertextBlob), "EncryptionContext": ec})
	for _, bc := range []struct {
		target string
		body   []byte
	}{{"GenerateDataKey", gdk}, {"Decrypt", dec}} {
		b.Run(bc.target, func(b *testing.B) {
			tmpl := signedRequest(b, bc.target, bc.body)
			b.ReportAllocs()
			cpu := processCPU()
			b.SetParallelism(parallelism())
			b.RunParallel(func(pb *testing.PB) {
				w := &discardResponse{h: http.Header{}}
				for pb.Next() {
					r := *tmpl
					r.Body = io.NopCloser(bytes.NewReader(bc.body))
					clear(w.h)
					h.ServeHTTP(w, &r)
					if w.status != http.StatusOK {
						b.Errorf("status %d", w.status)
						return
					}
				}
			})
			// CPU time holds better than wall time on a shared machine; it counts the audit
			// writer's goroutine and the garbage collector too.
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
