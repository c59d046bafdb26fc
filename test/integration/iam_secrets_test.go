package integration

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/server"
)

// syncBuffer is a log sink the server writes from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestIAMSecretsAtRest: secret access keys and session tokens of users, account roots and
// role sessions are never on disk in plaintext, nor in the server's log (debug level), whatever
// the failures the requests meet.
func TestIAMSecretsAtRest(t *testing.T) {
	var log syncBuffer
	e := startServerWith(t, server.Config{Dir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	alice, sess := e.appSession(t, e.account(t, rootCreds))
	_, rootKey, err := e.srv.CreateAccount(ctx(t), "other")
	if err != nil {
		t.Fatal(err)
	}
	// Requests that fail in various ways, so that error paths log what they log.
	_, _ = e.s3As(creds{alice.AccessKey, "wrong", ""}).ListBuckets(ctx(t), &s3.ListBucketsInput{})
	_, _ = e.s3As(creds{sess.AccessKey, sess.Secret, sess.Token + "x"}).ListBuckets(ctx(t), &s3.ListBucketsInput{})
	_, _ = e.iamAs(sess).CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("x")})
	keys := must[*iam.ListAccessKeysOutput](t)(e.iamAs(rootCreds).ListAccessKeys(ctx(t), &iam.ListAccessKeysInput{UserName: aws.String("alice")}))
	if len(keys.AccessKeyMetadata) != 1 {
		t.Fatalf("ListAccessKeys = %d keys", len(keys.AccessKeyMetadata))
	}

	secrets := map[string]string{"user secret": alice.Secret, "session secret": sess.Secret, "session token": sess.Token,
		"account root secret": rootKey.Secret}
	var disk bytes.Buffer
	err = filepath.Walk(e.dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		disk.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range secrets {
		t.Run(name, func(t *testing.T) {
			if bytes.Contains(disk.Bytes(), []byte(s)) {
				t.Errorf("the %s is on disk in plaintext", name)
			}
			if strings.Contains(log.String(), s) {
				t.Errorf("the %s is in the log", name)
			}
		})
	}
}
