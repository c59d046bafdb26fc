package kmsapi

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
)

// A presigned KMS URL (query auth, signed headers: host only, UNSIGNED-PAYLOAD) must not be a
// bearer token for any operation and any body.
func TestReviewPresignedKMSBearer(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, nil)
	enc, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("top secret")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/", nil)
	creds := aws.Credentials{AccessKeyID: testAccess, SecretAccessKey: testSecret}
	q := req.URL.Query()
	q.Set("X-Amz-Expires", "3600")
	req.URL.RawQuery = q.Encode()
	url, _, err := v4.NewSigner().PresignHTTP(ctx(), creds, req, "UNSIGNED-PAYLOAD", "kms", testRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Later, anybody holding url picks the operation and the body.
	body := `{"CiphertextBlob":"` + b64(enc.CiphertextBlob) + `"}`
	r2, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	r2.Header.Set("X-Amz-Target", "TrentService.Decrypt")
	r2.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := e.srv.Client().Do(r2)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Fatalf("presigned URL used as a bearer token: Decrypt succeeded: %s", raw)
	}
	t.Logf("status %d %s", resp.StatusCode, raw)
}

// Header-signed request with UNSIGNED-PAYLOAD: the body is not authenticated.
func TestReviewUnsignedPayloadKMS(t *testing.T) {
	e := newEnv(t, "")
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "TrentService.ListKeys")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	creds := aws.Credentials{AccessKeyID: testAccess, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(ctx(), creds, req, "UNSIGNED-PAYLOAD", "kms", testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	// tamper body after signing
	req.Body = io.NopCloser(strings.NewReader(`{"Description":"injected"}`))
	req.ContentLength = int64(len(`{"Description":"injected"}`))
	req.Header.Set("X-Amz-Target", "TrentService.ListKeys")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Fatalf("KMS accepted UNSIGNED-PAYLOAD (body not authenticated): %s", raw)
	}
	if true {
		t.Logf("unsigned: %d %s", resp.StatusCode, raw)
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestReviewUnsignedPayloadKMS2(t *testing.T) {
	e := newEnv(t, "")
	body := `{"Description":"via unsigned payload"}`
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "TrentService.CreateKey")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	creds := aws.Credentials{AccessKeyID: testAccess, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(ctx(), creds, req, "UNSIGNED-PAYLOAD", "kms", testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	tampered := `{"Description":"TAMPERED     payload"}`
	if len(tampered) != len(body) {
		t.Fatal(len(tampered), len(body))
	}
	req.Body = io.NopCloser(strings.NewReader(tampered))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), "InvalidSignatureException") {
		t.Fatalf("a body swapped under UNSIGNED-PAYLOAD was accepted: %d %s", resp.StatusCode, raw)
	}
}
