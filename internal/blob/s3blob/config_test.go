package s3blob_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/blob/blobtest"
	"github.com/coffer/coffer/internal/blob/s3blob"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want s3blob.Config
	}{
		{"bucket-only", "s3://blobs", s3blob.Config{Bucket: "blobs"}},
		{"prefix", "s3://blobs/coffer/eu", s3blob.Config{Bucket: "blobs", Prefix: "coffer/eu"}},
		{"trailing-slash", "s3://blobs/coffer/", s3blob.Config{Bucket: "blobs", Prefix: "coffer"}},
		{"every-option", "s3://my.bucket-1/p?endpoint=https://s3.example:9000&region=eu-west-1&ca=/etc/ca.pem&path-style=true",
			s3blob.Config{Bucket: "my.bucket-1", Prefix: "p", Endpoint: "https://s3.example:9000", Region: "eu-west-1", CAFile: "/etc/ca.pem", PathStyle: true}},
		{"path-style-false", "s3://blobs?path-style=false", s3blob.Config{Bucket: "blobs"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s3blob.ParseURL(tc.url)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseURL = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseURLRefuses(t *testing.T) {
	tests := []struct{ name, url, wantErr string }{
		{"scheme", "file:///x", "scheme"},
		{"credentials", "s3://AKIA:secret@blobs/p", "credentials"},
		{"user-only", "s3://AKIA@blobs/p", "credentials"},
		{"no-bucket", "s3:///p", "bucket"},
		{"bad-bucket", "s3://Blobs_1/p", "bucket"},
		{"short-bucket", "s3://ab", "bucket"},
		{"empty-segment", "s3://blobs/a//b", "prefix"},
		{"dotdot", "s3://blobs/a/../b", "prefix"},
		{"unknown-option", "s3://blobs?secret=x", "unknown option"},
		{"repeated-option", "s3://blobs?region=a&region=b", "2 times"},
		{"bad-path-style", "s3://blobs?path-style=yes", "path-style"},
		{"endpoint-not-url", "s3://blobs?endpoint=s3.example", "endpoint"},
		{"endpoint-credentials", "s3://blobs?endpoint=https://a:b@s3.example", "endpoint"},
		{"opaque", "s3:blobs", "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s3blob.ParseURL(tc.url)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ParseURL(%q) = %v, want an error about %s", tc.url, err, tc.wantErr)
			}
		})
	}
}

// otherCA writes a self-signed CA certificate that signed nothing of the server's.
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "not the server's CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNewRefuses checks that New fails, saying why, on a store it cannot use.
func TestNewRefuses(t *testing.T) {
	c := startCoffer(t)
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		mod     func(*s3blob.Config)
		wantErr string
		wantAs  any // an error type New's error must hold, or nil
	}{
		{"wrong-ca", func(c *s3blob.Config) { c.CAFile = otherCA(t) }, "not trusted by the CA bundle", new(x509.UnknownAuthorityError)},
		{"missing-ca-file", func(c *s3blob.Config) { c.CAFile = "/nonexistent/ca.pem" }, "CA bundle", new(*os.PathError)},
		{"ca-file-without-pem", func(c *s3blob.Config) { c.CAFile = notPEM }, "holds no PEM certificate", nil},
		{"missing-bucket", func(c *s3blob.Config) { c.Bucket = "no-such-bucket" }, "does not exist", nil},
		{"wrong-secret", func(c *s3blob.Config) {
			c.Credentials = credentials.NewStaticCredentialsProvider(testAccessKey, "wrong", "")
		}, "access denied", nil},
		{"small-parts", func(c *s3blob.Config) { c.PartSize = 1 << 20 }, "part size", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := c.config("p")
			tc.mod(&cfg)
			_, err := s3blob.New(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New = %v, want an error saying %q", err, tc.wantErr)
			}
			if tc.wantAs != nil && !errors.As(err, tc.wantAs) {
				t.Fatalf("New = %v, want it to hold a %T", err, tc.wantAs)
			}
		})
	}
}

// TestURLWithDefaultCredentials opens a Store from a --blob URL with credentials only in the
// environment, as cmd/coffer will, and round-trips a blob.
func TestURLWithDefaultCredentials(t *testing.T) {
	c := startCoffer(t)
	t.Setenv("AWS_ACCESS_KEY_ID", testAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecretKey)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_REGION", "us-east-1")
	raw := "s3://" + testBucket + "/from-url?endpoint=" + c.srv.URL + "&ca=" + c.srv.CertFile + "&path-style=true"
	cfg, err := s3blob.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	s := storeCfg(t, cfg)
	if _, err := s.Put(context.Background(), "x/y", strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	if got := blobtest.ReadAll(t, s, "x/y"); string(got) != "hello" {
		t.Fatalf("read %q, want hello", got)
	}
	if _, err := c.admin.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("from-url/x/y")}); err != nil {
		t.Fatalf("the blob is not at prefix/name: %v", err)
	}
}

// FuzzParseURL checks that ParseURL never panics and that what it accepts is a valid Config
// whose bucket and prefix came from the URL.
func FuzzParseURL(f *testing.F) {
	for _, seed := range []string{
		"s3://blobs", "s3://blobs/a/b/", "s3://my.bucket-1/p?endpoint=https://s3.example:9000&region=eu-west-1&ca=/etc/ca.pem&path-style=true",
		"s3://AKIA:secret@blobs", "s3:///p", "s3://blobs/a//b", "s3://blobs?x=1", "s3://blobs/%2e%2e/x", "file:///x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := s3blob.ParseURL(raw)
		if err != nil {
			return
		}
		if c.Bucket == "" || strings.Contains(c.Prefix, "//") || strings.HasPrefix(c.Prefix, "/") || strings.HasSuffix(c.Prefix, "/") {
			t.Fatalf("ParseURL(%q) accepted %+v", raw, c)
		}
		for _, seg := range strings.Split(c.Prefix, "/") {
			if c.Prefix != "" && (seg == "." || seg == "..") {
				t.Fatalf("ParseURL(%q) accepted prefix %q", raw, c.Prefix)
			}
		}
	})
}
