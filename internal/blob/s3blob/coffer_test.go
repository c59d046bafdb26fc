package s3blob_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/blob/s3blob"
	"github.com/coffer/coffer/internal/server"
)

const (
	testAccessKey = "AKIACOFFERTEST000001"
	testSecretKey = "cofferTestSecretKey/0123456789abcdefghijk"
	testBucket    = "blobs"
)

// coffer is a Coffer server on the embedded backend, on loopback, holding testBucket: the
// real S3 store the tests put blobs in.
type coffer struct {
	srv      *server.Server
	admin    *s3.Client // a plain SDK client, for looking behind the Store's back
	prefixes atomic.Int64
}

// startCoffer runs a Coffer server until the test ends and creates testBucket in it.
func startCoffer(t testing.TB) *coffer {
	t.Helper()
	srv, err := server.Start(server.Config{
		Dir: t.TempDir(), Listen: "127.0.0.1:0", Region: "us-east-1",
		AccessKey: testAccessKey, SecretKey: testSecretKey, NoAudit: true,
	})
	if err != nil {
		t.Fatalf("start coffer: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	c := &coffer{srv: srv}
	if c.admin, err = s3blob.NewClient(context.Background(), c.config("")); err != nil {
		t.Fatalf("client: %v", err)
	}
	if _, err := c.admin.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return c
}

// config is a Store configuration for prefix in testBucket.
func (c *coffer) config(prefix string) s3blob.Config {
	return s3blob.Config{
		Bucket: testBucket, Prefix: prefix, Endpoint: c.srv.URL, Region: "us-east-1",
		PathStyle: true, CAFile: c.srv.CertFile,
		Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
	}
}

// storeCfg opens a Store with cfg, failing the test on error.
func storeCfg(t testing.TB, cfg s3blob.Config) *s3blob.Store {
	t.Helper()
	s, err := s3blob.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("s3blob.New: %v", err)
	}
	return s
}

// freshPrefix is a prefix no other Store of this server used.
func (c *coffer) freshPrefix() string { return fmt.Sprintf("t%d/blobs", c.prefixes.Add(1)) }

// fresh opens a Store on a fresh prefix.
func (c *coffer) fresh(t testing.TB) *s3blob.Store {
	t.Helper()
	return storeCfg(t, c.config(c.freshPrefix()))
}
