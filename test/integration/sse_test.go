package integration

import (
	"crypto/md5"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestSSENotSilentlyIgnored: a write the server must refuse (malformed, or SSE-C on a bucket
// that blocks it) fails and stores nothing, never an object encrypted otherwise than the
// client asked.
func TestSSENotSilentlyIgnored(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "ssebucket")
	key := make([]byte, 32)
	sum := md5.Sum(key)
	ssec := func(in *s3.PutObjectInput) {
		in.SSECustomerAlgorithm = aws.String("AES256")
		in.SSECustomerKey = aws.String(base64.StdEncoding.EncodeToString(key))
		in.SSECustomerKeyMD5 = aws.String(base64.StdEncoding.EncodeToString(sum[:]))
	}
	cases := []struct {
		name   string
		mod    func(*s3.PutObjectInput)
		code   string
		status int
	}{
		{"KMS key id with AES256", func(in *s3.PutObjectInput) {
			in.ServerSideEncryption = types.ServerSideEncryptionAes256
			in.SSEKMSKeyId = aws.String("alias/x")
		}, "InvalidArgument", 400},
		{"SSE-C on a new bucket, which blocks it", ssec, "AccessDenied", 403},
		{"unknown algorithm", func(in *s3.PutObjectInput) { in.ServerSideEncryption = "AES192" }, "InvalidArgument", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &s3.PutObjectInput{Bucket: aws.String("ssebucket"), Key: aws.String("k"), Body: stringsReader("plaintext")}
			tc.mod(in)
			_, err := e.s3.PutObject(c, in)
			wantAPIError(t, err, tc.code, tc.status)
			_, err = e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("ssebucket"), Key: aws.String("k")})
			wantAPIError(t, err, "NotFound", 404)
		})
	}
	t.Run("SSE-C over plain HTTP", func(t *testing.T) {
		hc := e.client(testAccessKey, testSecretKey, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.srv.HTTPURL) })
		in := &s3.PutObjectInput{Bucket: aws.String("ssebucket"), Key: aws.String("k"), Body: stringsReader("x")}
		ssec(in)
		_, err := hc.PutObject(c, in)
		wantAPIError(t, err, "InvalidRequest", 400)
	})
	t.Run("SSE-C key on a plain object read", func(t *testing.T) {
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("ssebucket"), Key: aws.String("plain"), Body: stringsReader("x")}))
		_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("ssebucket"), Key: aws.String("plain"), SSECustomerAlgorithm: aws.String("AES256"),
			SSECustomerKey: aws.String(base64.StdEncoding.EncodeToString(key)), SSECustomerKeyMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:]))})
		wantAPIError(t, err, "InvalidRequest", 400)
	})
}
