package bench

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedStats is 1000 successful 4 KiB PUTs with latencies 1..1000 ms, and 10 failures.
func fixedStats() *opStats {
	s := newOpStats()
	for _, d := range seq(1000, time.Millisecond) {
		s.hist.Record(d)
		s.bytes += 4096
	}
	s.errors["SlowDown"] = 7
	s.errors["InternalError"] = 3
	return s
}

func TestResultMath(t *testing.T) {
	tests := []struct {
		name    string
		elapsed time.Duration
		ops     float64
		mbs     float64
	}{
		{"ten seconds", 10 * time.Second, 100, 0.4096},
		{"half a second", 500 * time.Millisecond, 2000, 8.192},
		{"zero elapsed", 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fixedStats().result("PUT", tc.elapsed)
			if r.Count != 1000 || r.Errors != 10 || r.Bytes != 4096000 {
				t.Errorf("count %d errors %d bytes %d, want 1000, 10, 4096000", r.Count, r.Errors, r.Bytes)
			}
			if math.Abs(r.OpsPerSec-tc.ops) > 1e-9 || math.Abs(r.MBPerSec-tc.mbs) > 1e-9 {
				t.Errorf("ops/s %v MB/s %v, want %v and %v", r.OpsPerSec, r.MBPerSec, tc.ops, tc.mbs)
			}
			for name, got := range map[string][2]float64{
				"p50": {r.Latency.P50, 500}, "p90": {r.Latency.P90, 900}, "p99": {r.Latency.P99, 990},
				"max": {r.Latency.Max, 1000}, "mean": {r.Latency.Mean, 500.5},
			} {
				if math.Abs(got[0]-got[1]) > got[1]*relErr {
					t.Errorf("%s = %vms, want %vms", name, got[0], got[1])
				}
			}
			if r.ErrorsByCode["SlowDown"] != 7 || r.ErrorsByCode["InternalError"] != 3 || len(r.ErrorsByCode) != 2 {
				t.Errorf("errors by code %v", r.ErrorsByCode)
			}
		})
	}
}

func TestMergeStats(t *testing.T) {
	a, b := fixedStats(), fixedStats()
	b.sample["SlowDown"] = "slow down"
	a.merge(b)
	if a.hist.Count() != 2000 || a.bytes != 2*4096000 || a.errors["SlowDown"] != 14 || a.errorCount() != 20 {
		t.Errorf("merged: count %d bytes %d errors %v", a.hist.Count(), a.bytes, a.errors)
	}
	if a.sample["SlowDown"] != "slow down" {
		t.Errorf("sample message lost in merge: %q", a.sample["SlowDown"])
	}
}

// goldenReport is a report with fixed figures, so that its JSON and table are stable.
func goldenReport() *Report {
	get := newOpStats()
	for _, d := range seq(700, 100*time.Microsecond) {
		get.hist.Record(d)
		get.bytes += 1 << 20
	}
	stats := map[string]*opStats{"PUT": fixedStats(), "GET": get}
	return &Report{
		Target: "s3", Endpoint: "https://127.0.0.1:9000", Op: "mixed", Concurrency: 8,
		SizeBytes: 1 << 20, Objects: 100, SSE: "none", Duration: 10, Elapsed: 10,
		Operations: buildOperations(stats, 10*time.Second),
	}
}

func TestReportJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := goldenReport().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	t.Run("golden", func(t *testing.T) {
		golden(t, "report.golden.json", buf.Bytes())
	})
	t.Run("one line", func(t *testing.T) {
		if n := bytes.Count(buf.Bytes(), []byte("\n")); n != 1 || !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
			t.Errorf("want exactly one line, got %d newlines", n)
		}
	})
	t.Run("fields", func(t *testing.T) {
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"target", "endpoint", "op", "concurrency", "size_bytes", "objects", "sse", "duration_seconds", "elapsed_seconds", "operations"} {
			if _, ok := m[k]; !ok {
				t.Errorf("top level lacks %q", k)
			}
		}
		ops := m["operations"].([]any)
		if len(ops) != 2 {
			t.Fatalf("%d operations, want 2", len(ops))
		}
		op := ops[1].(map[string]any)
		var keys []string
		for k := range op {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"bytes", "count", "errors", "errors_by_code", "latency_ms", "mb_per_sec", "operation", "ops_per_sec"}
		if !slices.Equal(keys, want) {
			t.Errorf("operation keys %v, want %v", keys, want)
		}
		if op["operation"] != "PUT" || op["count"] != 1000.0 || op["ops_per_sec"] != 100.0 {
			t.Errorf("PUT entry %v", op)
		}
		lat := op["latency_ms"].(map[string]any)
		for _, k := range []string{"p50", "p90", "p99", "max", "mean"} {
			if _, ok := lat[k].(float64); !ok {
				t.Errorf("latency_ms.%s missing or not a number", k)
			}
		}
	})
	t.Run("no errors is an empty object", func(t *testing.T) {
		var r struct {
			Operations []struct {
				ErrorsByCode json.RawMessage `json:"errors_by_code"`
			} `json:"operations"`
		}
		if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if got := string(r.Operations[0].ErrorsByCode); got != "{}" {
			t.Errorf("GET errors_by_code = %s, want {}", got)
		}
	})
}

func TestReportTable(t *testing.T) {
	var buf bytes.Buffer
	if err := goldenReport().WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.txt", buf.Bytes())
	for _, want := range []string{"operation", "ops/s", "MB/s", "p99", "10 (SlowDown×7, InternalError×3)", "size 1MiB"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestAllFailed(t *testing.T) {
	tests := []struct {
		name string
		ops  []OpResult
		want string
	}{
		{"some succeeded", []OpResult{{Operation: "PUT", Count: 1, Errors: 5, ErrorsByCode: map[string]uint64{"X": 5}}}, ""},
		{"nothing ran", []OpResult{}, "no request completed in the time given"},
		{"all failed", []OpResult{
			{Operation: "GET", Errors: 2, ErrorsByCode: map[string]uint64{"NoSuchKey": 2}},
			{Operation: "PUT", Errors: 3, ErrorsByCode: map[string]uint64{"NotImplemented": 3}},
		}, "every request failed: GET 2 (NoSuchKey×2); PUT 3 (NotImplemented×3)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := allFailed(&Report{Operations: tc.ops}); got != tc.want {
				t.Errorf("allFailed = %q, want %q", got, tc.want)
			}
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update if the change is intended)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}
