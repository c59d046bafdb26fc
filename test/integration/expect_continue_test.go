package integration

import (
	"bufio"
	"net/http"
	"testing"
	"time"
)

// TestExpectContinueRefusal: a request refused before its body is read answers with its final
// status at once, without the body the client was never told to send (boto3 and the aws CLI
// send Expect: 100-continue on uploads and wait), and the connection is not kept for reuse.
func TestExpectContinueRefusal(t *testing.T) {
	e := startServer(t)
	newBucket(t, e, "expect")
	const size = 200 << 10 // below net/http's 256 KiB drain limit, where the hang showed
	tests := []struct {
		name    string
		method  string
		target  string
		headers map[string]string
		secret  string
		code    string
		status  int
	}{
		{"no such bucket", "PUT", "/missing-bucket/k", nil, testSecretKey, "NoSuchBucket", 404},
		{"bad signature", "PUT", "/expect/k", nil, "wrong" + testSecretKey, "SignatureDoesNotMatch", 403},
		{"object lock header", "PUT", "/expect/k", map[string]string{"X-Amz-Object-Lock-Mode": "GOVERNANCE",
			"X-Amz-Object-Lock-Retain-Until-Date": "2030-01-01T00:00:00Z"}, testSecretKey, "InvalidRequest", 400},
		{"unknown sse algorithm", "PUT", "/expect/k", map[string]string{"X-Amz-Server-Side-Encryption": "AES192"}, testSecretKey, "InvalidArgument", 400},
		{"SSE-C on a bucket that blocks it", "PUT", "/expect/k", map[string]string{"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256"}, testSecretKey, "AccessDenied", 403},
		{"sse-kms with a missing key", "PUT", "/expect/k", map[string]string{"X-Amz-Server-Side-Encryption": "aws:kms",
			"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "alias/no-such-key"}, testSecretKey, "KMS.NotFoundException", 400},
		{"part of no upload", "PUT", "/expect/k?partNumber=1&uploadId=nope", nil, testSecretKey, "NoSuchUpload", 404},
		{"multipart completion of no upload", "POST", "/expect/k?uploadId=nope", nil, testSecretKey, "NoSuchUpload", 404},
		// The KMS needs a signed payload hash; a streaming or unsigned one is refused unread.
		{"kms unsigned payload", "POST", "/", map[string]string{"X-Amz-Target": "TrentService.ListKeys",
			"Content-Type": "application/x-amz-json-1.1"}, testSecretKey, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.srv.URL+tc.target, nil)
			req.ContentLength = size
			service := "s3"
			for k, v := range tc.headers {
				req.Header.Set(k, v)
				if k == "X-Amz-Target" {
					service = "kms"
				}
			}
			conn := e.sendHeaders(t, req, service, tc.secret, "Expect: 100-continue")
			// Headers only: the final status must come without the body. The deadline is a
			// hang detector, not a performance bound.
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), req)
			if err != nil {
				t.Fatalf("no final status without the body: %v", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusContinue || resp.StatusCode < 400 {
				t.Fatalf("status %d, want a refusal", resp.StatusCode)
			}
			if tc.code != "" {
				wantRawError(t, resp, tc.code, tc.status)
			}
			if !resp.Close {
				t.Fatalf("connection kept open after a refusal whose body was never sent (Connection: %q)", resp.Header.Get("Connection"))
			}
		})
	}
}
