package kmsapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
)

// rawRequest sends a hand-built request, signed for service unless service is empty.
func (e *env) rawRequest(t *testing.T, target, body, service, region string, when time.Time) (int, http.Header, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if service != "" {
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: testAccess, SecretAccessKey: testSecret}
		if err := v4.NewSigner().SignHTTP(ctx(), creds, req, hex.EncodeToString(sum[:]), service, region, when); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]string
	if err := json.Unmarshal(raw, &out); err != nil && resp.StatusCode != 200 {
		t.Fatalf("error body is not JSON: %q", raw)
	}
	return resp.StatusCode, resp.Header, out
}

func TestAuthenticationErrors(t *testing.T) {
	e := newEnv(t, "")
	now := time.Now()
	tests := []struct {
		name, target, body, service, region string
		when                                time.Time
		status                              int
		typ                                 string
	}{
		{"ok", "TrentService.ListKeys", "{}", "kms", testRegion, now, 200, ""},
		{"unsigned", "TrentService.ListKeys", "{}", "", "", now, 400, "MissingAuthenticationTokenException"},
		{"wrong service scope", "TrentService.ListKeys", "{}", "s3", testRegion, now, 400, "InvalidSignatureException"},
		{"wrong region", "TrentService.ListKeys", "{}", "kms", "eu-west-1", now, 400, "InvalidSignatureException"},
		{"expired", "TrentService.ListKeys", "{}", "kms", testRegion, now.Add(-time.Hour), 400, "InvalidSignatureException"},
		{"unknown operation", "TrentService.Teleport", "{}", "kms", testRegion, now, 400, "UnknownOperationException"},
		{"missing target", "", "{}", "kms", testRegion, now, 400, "UnknownOperationException"},
		{"malformed json", "TrentService.ListKeys", "{", "kms", testRegion, now, 400, "SerializationException"},
		{"wrong json type", "TrentService.DescribeKey", `{"KeyId": 5}`, "kms", testRegion, now, 400, "SerializationException"},
		{"empty body", "TrentService.ListKeys", "", "kms", testRegion, now, 200, ""},
		{"nitro recipient", "TrentService.GenerateRandom", `{"NumberOfBytes":8,"Recipient":{"KeyEncryptionAlgorithm":"RSAES_OAEP_SHA_256","AttestationDocument":"AAAA"}}`, "kms", testRegion, now, 400, "UnsupportedOperationException"},
		{"replicate key", "TrentService.ReplicateKey", `{"KeyId":"k","ReplicaRegion":"eu-west-1"}`, "kms", testRegion, now, 400, "UnsupportedOperationException"},
		{"body too large", "TrentService.ListKeys", `{"Marker":"` + strings.Repeat("a", MaxBody) + `"}`, "kms", testRegion, now, 400, "ValidationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := e.rawRequest(t, tc.target, tc.body, tc.service, tc.region, tc.when)
			if status != tc.status || body["__type"] != tc.typ {
				t.Fatalf("status %d type %q (%q), want %d %q", status, body["__type"], body["message"], tc.status, tc.typ)
			}
			if hdr.Get("x-amzn-RequestId") == "" || hdr.Get("Content-Type") != "application/x-amz-json-1.1" {
				t.Fatalf("headers %v", hdr)
			}
		})
	}
	t.Run("unknown access key", func(t *testing.T) {
		c := newClient(e.srv, "AKIDUNKNOWN000000000", testSecret)
		_, err := c.ListKeys(ctx(), &awskms.ListKeysInput{})
		wantCode(t, err, "UnrecognizedClientException")
	})
	t.Run("wrong secret", func(t *testing.T) {
		c := newClient(e.srv, testAccess, "wrong-secret")
		_, err := c.ListKeys(ctx(), &awskms.ListKeysInput{})
		wantCode(t, err, "InvalidSignatureException")
	})
	t.Run("errors never leak internal text", func(t *testing.T) {
		_, _, body := e.rawRequest(t, "TrentService.DescribeKey", `{"KeyId":"fake-key-id"}`, "kms", testRegion, now)
		if body["__type"] != "NotFoundException" || body["message"] != "Invalid keyId 'fake-key-id'" {
			t.Fatalf("body %v", body)
		}
		if bytes.Contains([]byte(body["message"]), []byte("kms:")) {
			t.Fatalf("internal text in message %q", body["message"])
		}
	})
}
