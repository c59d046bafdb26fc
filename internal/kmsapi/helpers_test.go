package kmsapi

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	"github.com/coffer/coffer/internal/kms/kmstest"
	"github.com/coffer/coffer/internal/sigv4"
	bolt "go.etcd.io/bbolt"
)

const (
	testRegion  = "us-east-1"
	testAccount = "111122223333"
	testAccess  = "AKIDCOFFERTEST000001"
	testSecret  = "coffer-test-secret-key-0000000000000000"
)

// env is a KMS served over HTTPS on loopback with a real SigV4 verifier and an SDK client.
type env struct {
	dir    string
	db     *bolt.DB
	svc    *kms.Service
	srv    *httptest.Server
	client *awskms.Client
	clock  *kmstest.Clock
	rec    audit.Recorder // the handler's Recorder; nil for none
	hsms   kms.HSMs       // the HSMs of custom key stores; nil for none
	// maxKeys is the service's quota of customer managed keys; AWS's default when 0.
	maxKeys int
}

// newEnv starts a server whose state lives in dir (a new temp dir when empty).
func newEnv(t testing.TB, dir string) *env {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	e := &env{dir: dir, clock: kmstest.NewClock(time.Now().UTC())}
	e.open(t)
	t.Cleanup(func() { e.close() })
	return e
}

func (e *env) open(t testing.TB) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(e.dir, "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := kmsbolt.New(db)
	if err != nil {
		t.Fatal(err)
	}
	root, err := kms.OpenFileRootKey(filepath.Join(e.dir, "kms", "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := iam.NewStatic(iam.Account{ID: testAccount}, testAccess, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := kms.New(kms.Config{Store: store, Root: root, Region: testRegion, Now: e.clock.Now, HSMs: e.hsms,
		MaxCustomerKeys: e.maxKeys, Principals: dir})
	if err != nil {
		t.Fatal(err)
	}
	ver := &sigv4.Verifier{Region: testRegion, Lookup: func(ctx context.Context, ak, token string) (sigv4.Credential, error) {
		c, err := dir.Lookup(ctx, ak, token)
		if err != nil {
			return sigv4.Credential{}, sigv4.ErrInvalidAccessKeyID
		}
		return sigv4.Credential{Secret: c.Secret.RevealBytes(), Owner: c.Principal}, nil
	}}
	h, err := New(Config{Service: svc, Verifier: ver, Directory: dir, Audit: e.rec})
	if err != nil {
		t.Fatal(err)
	}
	e.db, e.svc = db, svc
	e.srv = httptest.NewTLSServer(h)
	e.client = newClient(e.srv, testAccess, testSecret)
}

func newClient(srv *httptest.Server, ak, sk string) *awskms.Client {
	return awskms.New(awskms.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
		Credentials:  credentials.NewStaticCredentialsProvider(ak, sk, ""),
		Retryer:      aws.NopRetryer{},
	})
}

func (e *env) close() {
	if e.svc != nil {
		e.svc.CloseKeyStores()
	}
	if e.srv != nil {
		e.srv.Close()
		e.srv = nil
	}
	if e.db != nil {
		e.db.Close()
		e.db = nil
	}
}

// restart closes everything and reopens the same directory.
func (e *env) restart(t testing.TB) {
	e.close()
	e.open(t)
}

// errCode returns the AWS error code of err ("" for nil).
func errCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "non-API error: " + err.Error()
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := errCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

func ctx() context.Context { return context.Background() }

// createKey makes a key and returns its id.
func (e *env) createKey(t testing.TB, in *awskms.CreateKeyInput) string {
	t.Helper()
	if in == nil {
		in = &awskms.CreateKeyInput{}
	}
	out, err := e.client.CreateKey(ctx(), in)
	if err != nil {
		t.Fatal(err)
	}
	return *out.KeyMetadata.KeyId
}
