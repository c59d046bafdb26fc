package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAdminHandler(t *testing.T) {
	srv := httptest.NewServer(AdminHandler(Admin{}))
	defer srv.Close()

	tests := []struct {
		name, method, path string
		status             int
		contentType        string // prefix
		body               string // substring
	}{
		{"pprof index", "GET", "/debug/pprof/", 200, "text/html", "goroutine"},
		{"heap profile", "GET", "/debug/pprof/heap?debug=1", 200, "text/plain", "heap profile"},
		{"goroutine dump", "GET", "/debug/pprof/goroutine?debug=2", 200, "text/plain", "goroutine"},
		{"heap protobuf", "GET", "/debug/pprof/heap?gc=1", 200, "application/octet-stream", "\x1f\x8b"},
		{"cpu profile", "GET", "/debug/pprof/profile?seconds=1", 200, "application/octet-stream", "\x1f\x8b"},
		{"trace", "GET", "/debug/pprof/trace?seconds=1", 200, "application/octet-stream", "go 1."},
		{"bad seconds", "GET", "/debug/pprof/profile?seconds=0", 400, "text/plain", "seconds"},
		{"too many seconds", "GET", "/debug/pprof/profile?seconds=301", 400, "text/plain", "seconds"},
		{"unknown profile", "GET", "/debug/pprof/nosuch", 404, "text/plain", "unknown profile"},
		{"cmdline left out", "GET", "/debug/pprof/cmdline", 404, "text/plain", ""},
		{"metrics", "GET", "/metrics.json", 200, "application/json", "/sched/goroutines:goroutines"},
		{"healthz", "GET", "/healthz", 200, "text/plain", "ok"},
		{"readyz without checks", "GET", "/readyz", 200, "text/plain", "ready"},
		{"no metrics registry", "GET", "/metrics", 404, "text/plain", ""},
		{"unknown path", "GET", "/", 404, "text/plain", ""},
		{"metrics by POST", "POST", "/metrics.json", 405, "text/plain", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Errorf("Content-Type %q, want %q…", ct, tc.contentType)
			}
			if !strings.Contains(string(body), tc.body) {
				t.Errorf("body lacks %q: %.300s", tc.body, body)
			}
		})
	}
}

func TestAdminMetricsShape(t *testing.T) {
	rec := httptest.NewRecorder()
	AdminHandler(Admin{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics.json", nil))
	var got map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	t.Run("counter", func(t *testing.T) {
		var n uint64
		if err := json.Unmarshal(got["/sched/goroutines:goroutines"], &n); err != nil || n == 0 {
			t.Errorf("goroutines = %s (%v), want a positive integer", got["/sched/goroutines:goroutines"], err)
		}
	})
	t.Run("histogram", func(t *testing.T) {
		var h Histogram
		if err := json.Unmarshal(got["/sched/latencies:seconds"], &h); err != nil {
			t.Fatalf("latencies: %v", err)
		}
		if len(h.Counts) == 0 || len(h.Buckets) != len(h.Counts)+1 {
			t.Errorf("%d buckets for %d counts, want one more", len(h.Buckets), len(h.Counts))
		}
	})
	t.Run("default mux untouched", func(t *testing.T) {
		rec := httptest.NewRecorder()
		http.DefaultServeMux.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/", nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("http.DefaultServeMux answers /debug/pprof/ with %d; AdminHandler must not register there", rec.Code)
		}
	})
}
