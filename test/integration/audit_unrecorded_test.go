package integration

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/server"
)

// TestUnrecordedCallsAreNotAnswered closes the audit trail under a running server: from then
// on no call can be recorded, and none is answered with its result — S3 answers 500
// InternalError, the KMS KMSInternalException, IAM ServiceFailure — so no client ever holds
// the answer of a call missing from the trail.
func TestUnrecordedCallsAreNotAnswered(t *testing.T) {
	cfg := server.Config{Dir: t.TempDir(), Region: "us-east-1", Listen: "127.0.0.1:0", AccessKey: testAccessKey, SecretKey: testSecretKey}
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// The trail is already closed: only that may fail.
		if err := srv.Shutdown(c); err != nil && !errors.Is(err, audit.ErrClosed) {
			t.Errorf("shutdown: %v", err)
		}
	})
	e := &env{t: t, dir: cfg.Dir, srv: srv, region: cfg.Region}
	e.http = &http.Client{Transport: e.transport()}
	e.s3 = e.client(testAccessKey, testSecretKey, nil)
	key := must[*kms.CreateKeyOutput](t)(e.kms().CreateKey(ctx(t), &kms.CreateKeyInput{})).KeyMetadata.KeyId
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("before")}))

	if err := srv.AuditLog().Close(ctx(t)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		call   func() error
		code   string
		status int
	}{
		{"S3 management call", func() error {
			_, err := e.s3.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("after")})
			return err
		}, "InternalError", 500},
		{"KMS data key", func() error {
			_, err := e.kmsAs(rootCreds).GenerateDataKey(ctx(t), &kms.GenerateDataKeyInput{KeyId: key, NumberOfBytes: aws.Int32(32)})
			return err
		}, "KMSInternalException", 500},
		{"IAM access key", func() error {
			_, err := e.iamAs(rootCreds).CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("late")})
			return err
		}, "ServiceFailure", 500},
		{"SSE-KMS PUT (its GenerateDataKey unrecorded)", func() error {
			_, err := e.s3.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("before"), Key: aws.String("k"), Body: stringsReader("x"),
				ServerSideEncryption: "aws:kms", SSEKMSKeyId: key})
			return err
		}, "InternalError", 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantAPIError(t, tt.call(), tt.code, tt.status)
		})
	}
}
