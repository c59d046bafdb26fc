package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFrontRecoversPanics: a handler's panic is logged at error level with the request id and
// answered 500 in the wire shape of the request; http.ErrAbortHandler passes through.
func TestFrontRecoversPanics(t *testing.T) {
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	cases := []struct {
		name   string
		target string
		want   string
	}{
		{"S3", "", "<Code>InternalError</Code>"},
		{"KMS", "TrentService.Encrypt", `"__type":"KMSInternalException"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			f := &front{s3: boom, kms: boom, log: slog.New(slog.NewTextHandler(&logs, nil))}
			r := httptest.NewRequest(http.MethodPost, "/b/k", nil)
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			w := httptest.NewRecorder()
			f.ServeHTTP(w, r)
			id := w.Header().Get("x-amz-request-id")
			if w.Code != 500 || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("status %d body %q, want 500 with %s", w.Code, w.Body, tc.want)
			}
			if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "request_id="+id) || !strings.Contains(l, "panic=boom") {
				t.Fatalf("log %q lacks the error level, request id or panic", l)
			}
		})
	}
	t.Run("abort passes through", func(t *testing.T) {
		abort := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
		f := &front{s3: abort, log: slog.New(slog.DiscardHandler)}
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Fatalf("recovered %v, want http.ErrAbortHandler", p)
			}
		}()
		f.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	})
}
