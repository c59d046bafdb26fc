package s3blob_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	pemlib "encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/blobtest"
	"github.com/coffer/coffer/internal/blob/s3blob"
)

// proxy runs a TLS proxy in front of the Coffer server, standing for a third-party store or a
// faulty network: intercept may answer a request itself (true) or change it before it passes
// through. It returns a Store configuration that goes through the proxy.
func proxy(t *testing.T, c *coffer, intercept func(w http.ResponseWriter, r *http.Request) bool) s3blob.Config {
	t.Helper()
	target, err := url.Parse(c.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(c.srv.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	rp := httputil.NewSingleHostReverseProxy(target) // keeps the signed Host header
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !intercept(w, r) {
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "proxy-ca.pem")
	certPEM := pemlib.EncodeToMemory(&pemlib.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := c.config(c.freshPrefix())
	cfg.Endpoint, cfg.CAFile = srv.URL, ca
	return cfg
}

// noConditionalWrites stands for a store that does not implement If-None-Match on writes: it
// answers such writes 501 NotImplemented, counting them in refused.
func noConditionalWrites(refused *atomic.Int64) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("If-None-Match") == "" || (r.Method != http.MethodPut && r.Method != http.MethodPost) {
			return false
		}
		refused.Add(1)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotImplemented)
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>`))
		return true
	}
}

// TestHeadCheckFallback checks that a store refusing If-None-Match makes the Store fall back,
// once and with a warning, to checking with HEAD, which still refuses a taken name.
func TestHeadCheckFallback(t *testing.T) {
	c := startCoffer(t)
	var refused atomic.Int64
	cfg := proxy(t, c, noConditionalWrites(&refused))
	var logged bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	s := storeCfg(t, cfg)
	ctx := context.Background()
	big := randomBytes(3, s3blob.DefaultPartSize+1)
	steps := []struct {
		name string
		put  string
		body []byte
		want error
	}{
		{"first-put", "a", []byte("first"), nil},
		{"taken-name", "a", []byte("second"), blob.ErrExists},
		{"multipart", "b", big, nil},
		{"multipart-taken-name", "b", big, blob.ErrExists},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if _, err := s.Put(ctx, st.put, bytes.NewReader(st.body)); !errors.Is(err, st.want) {
				t.Fatalf("Put = %v, want %v", err, st.want)
			}
		})
	}
	if got := blobtest.ReadAll(t, s, "a"); string(got) != "first" {
		t.Fatalf("a = %q, want the first Put's bytes", got)
	}
	if n := refused.Load(); n != 1 {
		t.Fatalf("store refused %d conditional writes, want 1 (the Store must remember)", n)
	}
	if n := strings.Count(logged.String(), "falling back to a HEAD check"); n != 1 {
		t.Fatalf("warned %d times, want once:\n%s", n, logged.String())
	}
}

// TestAbortStale checks that AbortStale aborts only old uploads under the Store's prefix.
func TestAbortStale(t *testing.T) {
	c := startCoffer(t)
	prefix := c.freshPrefix()
	s := storeCfg(t, c.config(prefix))
	ctx := context.Background()
	for _, key := range []string{prefix + "/dead", "elsewhere/dead"} {
		if _, err := c.admin.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		cutoff time.Time
		want   int
		left   int // uploads left under prefix
	}{
		{"young-upload-kept", time.Now().Add(-time.Hour), 0, 1},
		{"old-upload-aborted", time.Now().Add(time.Minute), 1, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var janitor blob.Janitor = s // as a server sharing the store calls it
			n, err := janitor.Clean(ctx, st.cutoff)
			if err != nil || n != st.want {
				t.Fatalf("Clean (AbortStale) = %d, %v; want %d", n, err, st.want)
			}
			if got := c.uploadsUnder(t, prefix+"/"); len(got) != st.left {
				t.Fatalf("uploads under the prefix: %q, want %d", got, st.left)
			}
		})
	}
	if got := c.uploadsUnder(t, "elsewhere/"); len(got) != 1 {
		t.Fatalf("uploads outside the prefix: %q, want the one left alone", got)
	}
}

// flipByte corrupts the byte at off of what it reads.
type flipByte struct {
	r   io.ReadCloser
	off int64
	pos int64
}

func (f *flipByte) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.off >= f.pos && f.off < f.pos+int64(n) {
		p[f.off-f.pos] ^= 0x01
	}
	f.pos += int64(n)
	return n, err
}

func (f *flipByte) Close() error { return f.r.Close() }

// TestCorruptedTransferRefused flips one bit of each body on its way to the store, past TLS:
// the CRC32C each write carries makes the store refuse it, and nothing becomes visible.
func TestCorruptedTransferRefused(t *testing.T) {
	c := startCoffer(t)
	cfg := proxy(t, c, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && r.ContentLength > 0 {
			r.Body = &flipByte{r: r.Body, off: r.ContentLength / 2}
		}
		return false
	})
	s := storeCfg(t, cfg)
	tests := []struct {
		name string
		size int
	}{
		{"put-object", 100 << 10},
		{"upload-part", s3blob.DefaultPartSize + 1},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Put(context.Background(), tc.name, bytes.NewReader(randomBytes(uint64(20+i), tc.size)))
			if err == nil || !strings.Contains(err.Error(), "BadDigest") {
				t.Fatalf("Put through a corrupting network = %v, want the store's BadDigest", err)
			}
			if _, err := s.Open(context.Background(), tc.name); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("Open after refused Put = %v, want ErrNotFound", err)
			}
		})
	}
	if ups := c.uploadsUnder(t, cfg.Prefix); len(ups) != 0 {
		t.Fatalf("uploads left: %q", ups)
	}
}

// TestReadAheadGETs counts the GETs of sequential 32 KiB reads, as the SSE layer makes: one
// per read-ahead window, not one per read.
func TestReadAheadGETs(t *testing.T) {
	c := startCoffer(t)
	var gets atomic.Int64
	cfg := proxy(t, c, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && r.Header.Get("Range") != "" {
			gets.Add(1)
		}
		return false
	})
	s := storeCfg(t, cfg)
	const size = 3<<20 + 5
	want := randomBytes(4, size)
	if _, err := s.Put(context.Background(), "seq", bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(context.Background(), "seq")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make([]byte, 0, size)
	piece := make([]byte, 32<<10)
	for off := int64(0); off < size; off += int64(len(piece)) {
		n, err := r.ReadAt(piece, off)
		if err != nil && err != io.EOF {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
		got = append(got, piece[:n]...)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("sequential read: %d bytes differing from the blob", len(got))
	}
	if n, windows := gets.Load(), int64(size+s3blob.DefaultReadAhead-1)/s3blob.DefaultReadAhead; n != windows {
		t.Fatalf("%d GETs for %d bytes read in 32 KiB pieces, want %d (one per window)", n, size, windows)
	}
}
