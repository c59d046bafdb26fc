// Package integration drives a real Coffer server on 127.0.0.1 with real AWS clients.
package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/server"
)

const (
	testAccessKey = "AKIACOFFERTEST000001"
	testSecretKey = "cofferTestSecretKey/0123456789abcdefghijk"
)

// env is one running server and clients for it.
type env struct {
	t      *testing.T
	dir    string
	srv    *server.Server
	s3     *s3.Client
	http   *http.Client // trusts the server's certificate
	region string
}

// startServer runs a server on a fresh data directory (or dir, if given) until the test ends.
func startServer(t *testing.T, dir ...string) *env {
	t.Helper()
	d := t.TempDir()
	if len(dir) > 0 {
		d = dir[0]
	}
	return startServerIn(t, d, "us-east-1")
}

// startServerIn runs a server for region on data directory d until the test ends.
func startServerIn(t *testing.T, d, region string) *env {
	t.Helper()
	return startServerWith(t, server.Config{Dir: d, Region: region})
}

// startServerWith runs a server with cfg (on loopback, with the test credentials) until the
// test ends.
func startServerWith(t *testing.T, cfg server.Config) *env {
	t.Helper()
	cfg.Listen, cfg.ListenHTTP = "127.0.0.1:0", "127.0.0.1:0"
	cfg.AccessKey, cfg.SecretKey = testAccessKey, testSecretKey
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	d, region := cfg.Dir, cfg.Region
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	e := &env{t: t, dir: d, srv: srv, region: region}
	e.http = &http.Client{Transport: e.transport()}
	e.s3 = e.client(testAccessKey, testSecretKey, nil)
	return e
}

func (e *env) rootCAs() *x509.CertPool {
	pem, err := os.ReadFile(e.srv.CertFile)
	if err != nil {
		e.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		e.t.Fatal("no certificate in", e.srv.CertFile)
	}
	return pool
}

// transport trusts the server's certificate and dials every host name (virtual-host-style
// bucket.localhost included) to the server.
func (e *env) transport() *http.Transport {
	addr := strings.TrimPrefix(e.srv.URL, "https://")
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: e.rootCAs(), ServerName: "localhost"},
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			if strings.HasSuffix(strings.TrimSuffix(a, ":"+portOf(addr)), "localhost") {
				a = addr
			}
			return d.DialContext(ctx, network, a)
		},
		MaxIdleConnsPerHost: 64,
	}
}

func portOf(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}

// client returns an S3 client with the SDK's default checksum behaviour, as real tools have.
func (e *env) client(ak, sk string, opt func(*s3.Options)) *s3.Client {
	tr := e.transport()
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.TLSClientConfig = tr.TLSClientConfig
		t.DialContext = tr.DialContext
		t.MaxIdleConnsPerHost = 64
	})
	cfg := aws.Config{
		Region:                     e.region,
		Credentials:                credentials.NewStaticCredentialsProvider(ak, sk, ""),
		HTTPClient:                 hc,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		RetryMaxAttempts:           1,
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(e.srv.URL)
		o.UsePathStyle = true
		if opt != nil {
			opt(o)
		}
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}
