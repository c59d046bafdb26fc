package integration

import (
	"crypto/md5"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestSSENotSilentlyIgnored: until SSE-KMS and DSSE-KMS land, a request for them must
// fail and store nothing, never store an object encrypted otherwise than the client asked.
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
		{"DSSE-KMS", func(in *s3.PutObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAwsKmsDsse }, "NotImplemented", 501},
		{"KMS key id with AES256", func(in *s3.PutObjectInput) {
			in.ServerSideEncryption = types.ServerSideEncryptionAes256
			in.SSEKMSKeyId = aws.String("alias/x")
		}, "InvalidArgument", 400},
		{"SSE-KMS", func(in *s3.PutObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAwsKms }, "NotImplemented", 501},
		{"SSE-KMS key id", func(in *s3.PutObjectInput) {
			in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
			in.SSEKMSKeyId = aws.String("alias/x")
		}, "NotImplemented", 501},
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
	t.Run("multipart SSE-KMS", func(t *testing.T) {
		_, err := e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String("ssebucket"), Key: aws.String("k"), ServerSideEncryption: types.ServerSideEncryptionAwsKms})
		wantAPIError(t, err, "NotImplemented", 501)
	})
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
