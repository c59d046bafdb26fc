package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/requestinfo"
)

// TestFrontCountsRequests: the front router counts each request by the API it routed to and
// the operation and error code the wire layer reported, a panic as InternalError, and the
// bytes of both bodies.
func TestFrontCountsRequests(t *testing.T) {
	s3 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestinfo.SetOperation(r.Context(), "GetObject")
		if r.URL.Path == "/b/missing" {
			requestinfo.SetErrorCode(r.Context(), "NoSuchKey")
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Write([]byte("hello"))
	})
	kms := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		requestinfo.SetOperation(r.Context(), "Encrypt")
		io.Copy(io.Discard, r.Body)
		panic("boom")
	})
	m := newServerMetrics()
	f := &front{s3: s3, kms: kms, log: slog.New(slog.DiscardHandler), metrics: m}
	for _, path := range []string{"/b/k", "/b/k", "/b/missing"} {
		f.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"KeyId":"k"}`))
	r.Header.Set("X-Amz-Target", "TrentService.Encrypt")
	f.ServeHTTP(httptest.NewRecorder(), r)

	for _, tc := range []struct {
		name string
		got  uint64
		want uint64
	}{
		{"s3 GetObject OK", m.requests.With("s3", "GetObject", "OK").Value(), 2},
		{"s3 GetObject NoSuchKey", m.requests.With("s3", "GetObject", "NoSuchKey").Value(), 1},
		{"kms Encrypt panic", m.requests.With("kms", "Encrypt", "KMSInternalException").Value(), 1},
		{"kms calls", m.kmsCalls.With("api", "Encrypt", "KMSInternalException").Value(), 1},
		{"s3 latency", m.duration.With("s3", "GetObject").Count(), 3},
		{"s3 response bytes", m.responseBytes.With("s3").Value(), 10},
		{"kms request bytes", m.requestBytes.With("kms").Value(), uint64(len(`{"KeyId":"k"}`))},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}
