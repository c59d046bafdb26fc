package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReadiness(t *testing.T) {
	ok := func(context.Context) error { return nil }
	failing := func(context.Context) error {
		return errors.New("dial tcp db.internal:5432: password authentication failed")
	}
	hanging := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name   string
		checks []ReadyCheck
		status int
		body   string
	}{
		{"no checks", nil, 200, "ready\n"},
		{"all pass", []ReadyCheck{{"meta", ok}, {"blobs", ok}}, 200, "ready\nmeta: ok\nblobs: ok\n"},
		{"one fails", []ReadyCheck{{"meta", failing}, {"blobs", ok}}, 503, "not ready\nmeta: failed\nblobs: ok\n"},
		{"one hangs", []ReadyCheck{{"meta", ok}, {"blobs", hanging}}, 503, "not ready\nmeta: ok\nblobs: failed\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			rd := readiness{checks: tc.checks, log: slog.New(slog.NewTextHandler(&logs, nil)), timeout: 50 * time.Millisecond}
			w := httptest.NewRecorder()
			rd.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body, tc.status, tc.body)
			}
			if strings.Contains(w.Body.String(), "password") || strings.Contains(w.Body.String(), "db.internal") {
				t.Errorf("the answer carries a check's error: %q", w.Body)
			}
			if tc.status == 503 && !strings.Contains(logs.String(), "readiness check failed") {
				t.Errorf("the failure is not logged: %q", logs.String())
			}
		})
	}
}

// TestReadyzFollowsTheStore: a real server's /readyz answers 200, and 503 naming the metadata
// store once meta.db is closed under it.
func TestReadyzFollowsTheStore(t *testing.T) {
	s, err := Start(Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", AdminListen: "127.0.0.1:0", NoAudit: true,
		AccessKey: "AKIAREADYZTEST000001", SecretKey: "readyz-test-secret-key-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	get := func() (int, string) {
		resp, err := http.Get(s.AdminURL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get(); status != 200 || !strings.Contains(body, "meta: ok") {
		t.Fatalf("/readyz: %d %q", status, body)
	}
	<-s.Swept() // the start-up sweep reads meta.db: let it finish first
	s.stopBackground()
	if err := s.stores.Close(); err != nil { // meta.db closes; the blob directory stays
		t.Fatal(err)
	}
	if status, body := get(); status != 503 || !strings.Contains(body, "meta: failed") || !strings.Contains(body, "blobs: ok") {
		t.Fatalf("/readyz with meta.db closed: %d %q", status, body)
	}
}
