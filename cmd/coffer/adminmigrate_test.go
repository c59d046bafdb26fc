package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer/coffer/internal/pgtest"
	"github.com/coffer/coffer/internal/server"
)

// TestMain gives the package's tests a real PostgreSQL (for `coffer admin migrate`).
func TestMain(m *testing.M) { pgtest.Main(m) }

// serverDirWithObject is a data directory made by a real server that stored one SSE-S3
// object large enough to be a blob, and was then stopped.
func serverDirWithObject(t *testing.T) string {
	t.Helper()
	const ak, sk = "AKIAADMINMIGRATE0001", "admin-migrate-secret-key-0123456789abcd"
	dir := t.TempDir()
	srv, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", AccessKey: ak, SecretKey: sk})
	if err != nil {
		t.Fatal(err)
	}
	<-srv.Swept()
	pem, err := os.ReadFile(srv.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	addr := strings.TrimPrefix(srv.URL, "https://")
	client := s3.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
		HTTPClient: &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		}},
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	}, func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("migrated")}); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 100<<10)
	_, _ = rand.Read(body)
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("migrated"), Key: aws.String("k"), Body: bytes.NewReader(body),
		ServerSideEncryption: s3types.ServerSideEncryptionAes256})
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(c); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestAdminMigrate runs `coffer admin migrate` into PostgreSQL and a file:// blob store, with
// --verify-only, again into the same (refused), back into a new directory, and --verify-only
// after a blob byte changed: exit status, counts, carry-over notes and differences.
func TestAdminMigrate(t *testing.T) {
	dir := serverDirWithObject(t)
	url, blobDir := pgtest.NewDatabase(t), t.TempDir()
	blobURL := "file://" + blobDir
	back := filepath.Join(t.TempDir(), "back")
	cases := []struct {
		name    string
		prepare func(t *testing.T)
		args    []string
		code    int
		stdout  []string
		stderr  string
	}{
		{name: "no destination", args: []string{"--data", dir}, code: 2, stderr: "give either"},
		{name: "both directions", args: []string{"--data", dir, "--to-meta", url, "--to-blob", blobURL, "--from-meta", url, "--from-blob", blobURL},
			code: 2, stderr: "give either"},
		{name: "blob store missing", args: []string{"--data", dir, "--to-meta", url}, code: 2, stderr: "go together"},
		{name: "to PostgreSQL", args: []string{"--data", dir, "--to-meta", url, "--to-blob", blobURL}, code: 0,
			stdout: []string{"1 s3 object\n", "1 blobs (", "1 copied, 0 already in place", "verified:", filepath.Join(dir, "kms", "root.key"), "credentials.json"}},
		{name: "verify only", args: []string{"--data", dir, "--to-meta", url, "--to-blob", blobURL, "--verify-only"}, code: 0,
			stdout: []string{"1 s3 object\n", "verified:"}},
		{name: "into records again", args: []string{"--data", dir, "--to-meta", url, "--to-blob", blobURL}, code: 1, stderr: "not empty"},
		{name: "back into a new directory", args: []string{"--from-meta", url, "--from-blob", blobURL, "--data", back}, code: 0,
			stdout: []string{"1 s3 object\n", "verified:", "KMS root key"}},
		{name: "back into the same directory", args: []string{"--from-meta", url, "--from-blob", blobURL, "--data", back}, code: 1, stderr: "not empty"},
		{name: "changed blob", prepare: func(t *testing.T) { flipBlobByte(t, blobDir) },
			args: []string{"--data", dir, "--to-meta", url, "--to-blob", blobURL, "--verify-only"}, code: 1,
			stdout: []string{"differs: blob "}, stderr: "differ"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prepare != nil {
				tc.prepare(t)
			}
			code, stdout, stderr := runCoffer(append([]string{"admin", "migrate"}, tc.args...)...)
			t.Logf("%s\n%s", stdout, stderr)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q), stdout %q", code, tc.code, stderr, tc.stderr, stdout)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(stdout, want) {
					t.Fatalf("stdout %q lacks %q", stdout, want)
				}
			}
			if strings.Contains(stdout+stderr, "secret") {
				t.Fatalf("output names a secret: %q %q", stdout, stderr)
			}
		})
	}
}

// flipBlobByte changes one byte in the middle of a blob file under dir.
func flipBlobByte(t *testing.T, dir string) {
	t.Helper()
	done := false
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || done {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil || len(b) < 1000 {
			return err
		}
		b[len(b)/2] ^= 0x80
		done = true
		return os.WriteFile(p, b, 0o600)
	})
	if err != nil || !done {
		t.Fatalf("no blob to change under %s: %v", dir, err)
	}
}
