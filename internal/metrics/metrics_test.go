package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestWriteText(t *testing.T) {
	r := NewRegistry()
	reqs := r.Counter("app_requests_total", "Requests by operation\nand code, with a \\ in the help.", "op", "code")
	reqs.With("GetObject", "OK").Add(3)
	reqs.With("GetObject", "NoSuchKey").Inc()
	reqs.With(`a"b\c`+"\nd", "OK").Inc()
	r.Counter("app_plain_total", "A counter without labels.").With().Add(7)
	lat := r.Histogram("app_latency_seconds", "Latency.", []float64{0.1, 1, 2.5}, "op")
	h := lat.With("PutObject")
	for _, v := range []float64{0.05, 0.1, 0.5, 3} {
		h.Observe(v)
	}
	r.CounterFunc("app_cache_hits_total", "Cache hits.", func() float64 { return 12 }, Label{"cache", "keys"})
	r.CounterFunc("app_cache_hits_total", "Cache hits.", func() float64 { return 0 }, Label{"cache", "policies"})
	r.GaugeFunc("app_goroutines", "Goroutines.", func() float64 { return 42 })

	want := `# HELP app_cache_hits_total Cache hits.
# TYPE app_cache_hits_total counter
app_cache_hits_total{cache="keys"} 12
app_cache_hits_total{cache="policies"} 0
# HELP app_goroutines Goroutines.
# TYPE app_goroutines gauge
app_goroutines 42
# HELP app_latency_seconds Latency.
# TYPE app_latency_seconds histogram
app_latency_seconds_bucket{op="PutObject",le="0.1"} 2
app_latency_seconds_bucket{op="PutObject",le="1"} 3
app_latency_seconds_bucket{op="PutObject",le="2.5"} 3
app_latency_seconds_bucket{op="PutObject",le="+Inf"} 4
app_latency_seconds_sum{op="PutObject"} 3.65
app_latency_seconds_count{op="PutObject"} 4
# HELP app_plain_total A counter without labels.
# TYPE app_plain_total counter
app_plain_total 7
# HELP app_requests_total Requests by operation\nand code, with a \\ in the help.
# TYPE app_requests_total counter
app_requests_total{op="GetObject",code="NoSuchKey"} 1
app_requests_total{op="GetObject",code="OK"} 3
app_requests_total{op="a\"b\\c\nd",code="OK"} 1
`
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestHandler(t *testing.T) {
	r := NewRegistry()
	r.Counter("x_total", "X.").With().Inc()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type %q, want %q", ct, ContentType)
	}
	if !strings.Contains(rec.Body.String(), "x_total 1\n") {
		t.Errorf("body: %s", rec.Body)
	}
}

func TestEmptyHistogramHasOnlyHeader(t *testing.T) {
	r := NewRegistry()
	r.Histogram("h_seconds", "H.", DurationBuckets(), "op")
	var b strings.Builder
	_ = r.WriteText(&b)
	if want := "# HELP h_seconds H.\n# TYPE h_seconds histogram\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestRegistrationMistakesPanic(t *testing.T) {
	tests := []struct {
		name string
		fn   func(r *Registry)
	}{
		{"bad metric name", func(r *Registry) { r.Counter("bad-name", "") }},
		{"bad label name", func(r *Registry) { r.Counter("c", "", "bad-label") }},
		{"reserved label", func(r *Registry) { r.Histogram("h", "", []float64{1}, "le") }},
		{"too many labels", func(r *Registry) { r.Counter("c", "", "a", "b", "c", "d", "e") }},
		{"twice", func(r *Registry) { r.Counter("c", ""); r.Counter("c", "") }},
		{"unsorted bounds", func(r *Registry) { r.Histogram("h", "", []float64{2, 1}) }},
		{"repeated bound", func(r *Registry) { r.Histogram("h", "", []float64{1, 1}) }},
		{"no bounds", func(r *Registry) { r.Histogram("h", "", nil) }},
		{"wrong arity", func(r *Registry) { r.Counter("c", "", "a").With("x", "y") }},
		{"func of another type", func(r *Registry) {
			r.CounterFunc("f", "", func() float64 { return 0 })
			r.GaugeFunc("f", "", func() float64 { return 0 })
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.fn(NewRegistry())
		})
	}
}

// TestConcurrentUpdates updates and writes out from many goroutines at once (run with -race)
// and checks that no update was lost.
func TestConcurrentUpdates(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("c_total", "C.", "op")
	h := r.Histogram("h_seconds", "H.", DurationBuckets(), "op")
	ops := []string{"a", "b", "c", "d"}
	const workers, each = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				op := ops[(w+i)%len(ops)]
				c.With(op).Inc()
				h.With(op).Observe(float64(i%100) / 1000)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			var b strings.Builder
			_ = r.WriteText(&b)
		}
	})
	wg.Wait()
	var total, count uint64
	for _, op := range ops {
		total += c.With(op).Value()
		count += h.With(op).Count()
	}
	if total != workers*each || count != workers*each {
		t.Errorf("counted %d and observed %d, want %d", total, count, workers*each)
	}
}

func BenchmarkObserve(b *testing.B) {
	r := NewRegistry()
	c := r.Counter("c_total", "C.", "api", "operation", "code")
	h := r.Histogram("h_seconds", "H.", DurationBuckets(), "api", "operation")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.With("s3", "GetObject", "OK").Inc()
			h.With("s3", "GetObject").Observe(0.003)
		}
	})
}
