package integration

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestEarlyErrorWithExpectContinue: a write refused before its body is read is answered at
// once, though the client holds the body back until it hears "100 Continue".
func TestEarlyErrorWithExpectContinue(t *testing.T) {
	e := startServer(t)
	newBucket(t, e, "expect")
	pr, pw := io.Pipe()
	defer pw.Close()
	req, err := http.NewRequest(http.MethodPut, e.srv.URL+"/expect/k", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 1
	req.Header.Set("Expect", "100-continue")
	req.Header.Set("x-amz-acl", "public-read")
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner().SignHTTP(ctx(t), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}, req, "UNSIGNED-PAYLOAD", "s3", e.region, nowUTC()); err != nil {
		t.Fatal(err)
	}
	tr := e.transport()
	tr.ExpectContinueTimeout = time.Minute
	start := time.Now()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wantRawError(t, resp, "AccessControlListNotSupported", 400)
	t.Logf("answered after %v", time.Since(start))
}
