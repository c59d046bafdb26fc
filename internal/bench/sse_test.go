package bench

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestS3LiveSSE runs each --sse mode against a server that implements them all: every run
// succeeds (for SSE-C, on a bucket the tool unblocks SSE-C on, as new buckets block it) and
// every response confirms the encryption.
func TestS3LiveSSE(t *testing.T) {
	l := startLive(t)
	for _, mode := range []string{"s3", "kms", "c"} {
		for _, op := range []string{"put", "get"} {
			t.Run(mode+"/"+op, func(t *testing.T) {
				code, out, errOut := l.run(t, l.args("s3", "--sse", mode, "--op", op, "--objects", "4", "--concurrency", "1", "--duration", "1s", "--json"))
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				var rep Report
				if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.SSE != mode {
					t.Errorf("report %s (%v), want sse %q", out, err, mode)
				}
				for _, o := range rep.Operations {
					if len(o.ErrorsByCode) > 0 {
						t.Errorf("%s: errors %v", o.Operation, o.ErrorsByCode)
					}
				}
				if b := l.buckets(t); len(b) != 0 {
					t.Errorf("buckets left behind: %v", b)
				}
			})
		}
	}
}

func TestSSEConfirmed(t *testing.T) {
	tests := []struct {
		mode    string
		sse     string
		custAlg string
		ok      bool
	}{
		{"none", "", "", true},
		{"none", "AES256", "", true},
		{"s3", "AES256", "", true},
		{"s3", "", "", false},
		{"s3", "aws:kms", "", false},
		{"kms", "aws:kms", "", true},
		{"kms", "aws:kms:dsse", "", true},
		{"kms", "AES256", "", false},
		{"c", "", "AES256", true},
		{"c", "AES256", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.mode+"/"+tc.sse+"/"+tc.custAlg, func(t *testing.T) {
			h := newSSEHeaders(tc.mode, "", false)
			var alg *string
			if tc.custAlg != "" {
				alg = aws.String(tc.custAlg)
			}
			err := h.confirmed(types.ServerSideEncryption(tc.sse), alg)
			if (err == nil) != tc.ok {
				t.Fatalf("confirmed = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && errorCode(err) != "SSENotConfirmed" {
				t.Errorf("code %q", errorCode(err))
			}
		})
	}
}

func TestSSEHeaders(t *testing.T) {
	t.Run("c", func(t *testing.T) {
		h := newSSEHeaders("c", "", false)
		var put s3.PutObjectInput
		var get s3.GetObjectInput
		h.put(&put)
		h.get(&get)
		key, err := base64.StdEncoding.DecodeString(aws.ToString(put.SSECustomerKey))
		if err != nil || len(key) != 32 {
			t.Fatalf("SSE-C key is %d bytes (%v), want 32", len(key), err)
		}
		sum := md5.Sum(key)
		if aws.ToString(put.SSECustomerKeyMD5) != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Error("SSE-C key MD5 does not match the key")
		}
		if aws.ToString(put.SSECustomerAlgorithm) != "AES256" || aws.ToString(get.SSECustomerAlgorithm) != "AES256" ||
			aws.ToString(get.SSECustomerKey) != aws.ToString(put.SSECustomerKey) || put.ServerSideEncryption != "" {
			t.Errorf("PUT %+v / GET %+v", put, get)
		}
	})
	tests := []struct {
		mode, keyID string
		bucketKey   bool
		want        s3.PutObjectInput
	}{
		{mode: "none"},
		{mode: "s3", want: s3.PutObjectInput{ServerSideEncryption: "AES256"}},
		{mode: "kms", want: s3.PutObjectInput{ServerSideEncryption: "aws:kms"}},
		{mode: "kms", keyID: "alias/k", bucketKey: true, want: s3.PutObjectInput{ServerSideEncryption: "aws:kms", SSEKMSKeyId: aws.String("alias/k"), BucketKeyEnabled: aws.Bool(true)}},
	}
	for _, tc := range tests {
		t.Run(tc.mode+tc.keyID, func(t *testing.T) {
			h := newSSEHeaders(tc.mode, tc.keyID, tc.bucketKey)
			var put s3.PutObjectInput
			var get s3.GetObjectInput
			h.put(&put)
			h.get(&get)
			if put.ServerSideEncryption != tc.want.ServerSideEncryption || aws.ToString(put.SSEKMSKeyId) != aws.ToString(tc.want.SSEKMSKeyId) ||
				aws.ToBool(put.BucketKeyEnabled) != aws.ToBool(tc.want.BucketKeyEnabled) || put.SSECustomerKey != nil {
				t.Errorf("PUT headers %+v", put)
			}
			if get.SSECustomerKey != nil || get.SSECustomerAlgorithm != nil {
				t.Errorf("GET carries SSE-C headers in mode %s", tc.mode)
			}
		})
	}
}
