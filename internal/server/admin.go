package server

import (
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"time"
)

// Admin is what the admin listener serves besides the runtime's own diagnostics.
type Admin struct {
	Metrics http.Handler // /metrics; none when nil
	Ready   []ReadyCheck // what /readyz asks
	Logger  *slog.Logger // where /readyz logs why a check failed; none when nil
}

// maxProfileSeconds bounds a CPU profile or trace request.
const maxProfileSeconds = 300

// AdminHandler serves diagnostics for the admin listener, which is off unless the operator
// asks for it (it must never share the public endpoint: profiles reveal timings and memory):
//
//   - /debug/pprof/          an index of the profiles;
//   - /debug/pprof/profile   a CPU profile (?seconds=N, default 30), for `go tool pprof URL`;
//   - /debug/pprof/trace     an execution trace (?seconds=N, default 1);
//   - /debug/pprof/NAME      a runtime/pprof profile: heap, allocs, goroutine, block, mutex,
//     threadcreate (?debug=1 for text, ?gc=1 to collect garbage before a heap profile);
//   - /metrics.json          every runtime/metrics sample as one JSON object;
//   - /metrics               the server's metrics in the Prometheus text format (Admin.Metrics);
//   - /healthz               200 "ok" while the process serves;
//   - /readyz                200 when every Admin.Ready check passes, else 503 naming those
//     that failed.
//
// The pprof paths are net/http/pprof's, served by this package from runtime/pprof so that
// nothing is registered on http.DefaultServeMux (importing net/http/pprof would do that).
// /debug/pprof/cmdline is left out: a command line can hold secrets.
//
// Health and metrics live here, not on the S3 endpoint, where /healthz or /metrics is a
// valid bucket name.
func AdminHandler(a Admin) http.Handler {
	mux := http.NewServeMux()
	if a.Metrics != nil {
		mux.Handle("GET /metrics", a.Metrics)
	}
	mux.HandleFunc("GET /healthz", serveHealth)
	mux.Handle("GET /readyz", readiness{checks: a.Ready, log: a.Logger})
	mux.HandleFunc("GET /debug/pprof/{$}", pprofIndex)
	mux.HandleFunc("GET /debug/pprof/profile", cpuProfile)
	mux.HandleFunc("GET /debug/pprof/trace", executionTrace)
	mux.HandleFunc("GET /debug/pprof/{name}", namedProfile)
	mux.HandleFunc("GET /metrics.json", serveMetrics)
	return mux
}

func pprofIndex(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, "<html><head><title>/debug/pprof/</title></head><body><p>Profiles:</p><ul>\n")
	for _, p := range pprof.Profiles() {
		n := html.EscapeString(p.Name())
		fmt.Fprintf(w, "<li><a href=\"%s?debug=1\">%s</a> (%d)</li>\n", n, n, p.Count())
	}
	fmt.Fprint(w, "<li><a href=\"profile?seconds=30\">profile</a> (CPU, 30 s)</li>\n")
	fmt.Fprint(w, "<li><a href=\"trace?seconds=1\">trace</a> (1 s)</li>\n</ul></body></html>\n")
}

// seconds reads ?seconds=, within (0, maxProfileSeconds].
func seconds(r *http.Request, def int) (time.Duration, error) {
	s := r.URL.Query().Get("seconds")
	if s == "" {
		return time.Duration(def) * time.Second, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > maxProfileSeconds {
		return 0, fmt.Errorf("seconds must be 1..%d", maxProfileSeconds)
	}
	return time.Duration(n) * time.Second, nil
}

// sleep waits d or until the client goes away.
func sleep(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

func cpuProfile(w http.ResponseWriter, r *http.Request) {
	d, err := seconds(r, 30)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="profile"`)
	if err := pprof.StartCPUProfile(w); err != nil {
		// Headers are not sent yet: StartCPUProfile writes nothing when it fails.
		w.Header().Set("Content-Disposition", "")
		http.Error(w, "could not start CPU profile: "+err.Error(), http.StatusInternalServerError)
		return
	}
	sleep(r, d)
	pprof.StopCPUProfile()
}

func executionTrace(w http.ResponseWriter, r *http.Request) {
	d, err := seconds(r, 1)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="trace"`)
	if err := trace.Start(w); err != nil {
		w.Header().Set("Content-Disposition", "")
		http.Error(w, "could not start trace: "+err.Error(), http.StatusInternalServerError)
		return
	}
	sleep(r, d)
	trace.Stop()
}

func namedProfile(w http.ResponseWriter, r *http.Request) {
	p := pprof.Lookup(r.PathValue("name"))
	if p == nil {
		http.Error(w, "unknown profile", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	debug, _ := strconv.Atoi(q.Get("debug"))
	if p.Name() == "heap" && q.Get("gc") != "" {
		runtime.GC()
	}
	if debug > 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+p.Name()+`"`)
	}
	_ = p.WriteTo(w, debug)
}

// Histogram is how a runtime/metrics histogram appears in /metrics.json: bucket boundaries
// (len(Counts)+1 of them, the outer ones possibly ±Inf, written as null) and counts.
type Histogram struct {
	Buckets []*float64 `json:"buckets"`
	Counts  []uint64   `json:"counts"`
}

// serveMetrics reads every metric the runtime supports and writes name → value, where a
// value is a number (uint64 or float64) or a Histogram.
func serveMetrics(w http.ResponseWriter, _ *http.Request) {
	descs := metrics.All()
	samples := make([]metrics.Sample, len(descs))
	for i, d := range descs {
		samples[i].Name = d.Name
	}
	metrics.Read(samples)
	out := make(map[string]any, len(samples))
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			out[s.Name] = s.Value.Uint64()
		case metrics.KindFloat64:
			out[s.Name] = finite(s.Value.Float64())
		case metrics.KindFloat64Histogram:
			h := s.Value.Float64Histogram()
			b := make([]*float64, len(h.Buckets))
			for i, v := range h.Buckets {
				b[i] = finite(v)
			}
			out[s.Name] = Histogram{Buckets: b, Counts: h.Counts}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

// finite returns nil for ±Inf and NaN, which JSON cannot carry.
func finite(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}
