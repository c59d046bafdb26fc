package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is the outcome of one run: what was asked, and what was measured per operation. Its
// JSON form is what `--json` prints; BENCHMARKS.md documents it.
type Report struct {
	Target      string     `json:"target"` // "s3" or "kms"
	Endpoint    string     `json:"endpoint"`
	Op          string     `json:"op"` // the --op asked for
	Concurrency int        `json:"concurrency"`
	SizeBytes   int64      `json:"size_bytes,omitempty"`
	Objects     int        `json:"objects,omitempty"`
	SSE         string     `json:"sse,omitempty"`
	Duration    float64    `json:"duration_seconds"` // as asked
	Elapsed     float64    `json:"elapsed_seconds"`  // measured: first request sent to last response read
	Operations  []OpResult `json:"operations"`
}

// OpResult is what one kind of request (PUT, GET, Decrypt, …) did during the run.
type OpResult struct {
	Operation    string            `json:"operation"`
	Count        uint64            `json:"count"`  // requests that succeeded
	Errors       uint64            `json:"errors"` // requests that failed
	Bytes        int64             `json:"bytes"`  // object bytes sent or received by the successful requests
	OpsPerSec    float64           `json:"ops_per_sec"`
	MBPerSec     float64           `json:"mb_per_sec"` // 10^6 bytes per second
	Latency      Latency           `json:"latency_ms"`
	ErrorsByCode map[string]uint64 `json:"errors_by_code"`
}

// Latency summarises the successful requests' latencies, in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// opStats accumulates one operation's observations; each worker has its own.
type opStats struct {
	hist   Histogram
	bytes  int64
	errors map[string]uint64
	sample map[string]string // first error message seen per code, for the all-failed message
}

func newOpStats() *opStats {
	return &opStats{errors: map[string]uint64{}, sample: map[string]string{}}
}

func (s *opStats) merge(o *opStats) {
	s.hist.Merge(&o.hist)
	s.bytes += o.bytes
	for code, n := range o.errors {
		s.errors[code] += n
		if _, ok := s.sample[code]; !ok {
			s.sample[code] = o.sample[code]
		}
	}
}

func (s *opStats) errorCount() uint64 {
	var n uint64
	for _, c := range s.errors {
		n += c
	}
	return n
}

// result turns the accumulated observations into rates over elapsed.
func (s *opStats) result(name string, elapsed time.Duration) OpResult {
	r := OpResult{
		Operation:    name,
		Count:        s.hist.Count(),
		Errors:       s.errorCount(),
		Bytes:        s.bytes,
		ErrorsByCode: maps.Clone(s.errors),
	}
	if secs := elapsed.Seconds(); secs > 0 {
		r.OpsPerSec = float64(r.Count) / secs
		r.MBPerSec = float64(r.Bytes) / 1e6 / secs
	}
	r.Latency = Latency{
		P50:  ms(s.hist.Quantile(0.50)),
		P90:  ms(s.hist.Quantile(0.90)),
		P99:  ms(s.hist.Quantile(0.99)),
		Max:  ms(s.hist.Max()),
		Mean: ms(s.hist.Mean()),
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// buildOperations orders the per-operation results by name for a stable table.
func buildOperations(stats map[string]*opStats, elapsed time.Duration) []OpResult {
	out := make([]OpResult, 0, len(stats))
	for _, name := range slices.Sorted(maps.Keys(stats)) {
		out = append(out, stats[name].result(name, elapsed))
	}
	return out
}

// WriteJSON prints the report as one JSON object on one line.
func (r *Report) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(r)
}

// WriteTable prints the report for people.
func (r *Report) WriteTable(w io.Writer) error {
	head := fmt.Sprintf("%s %s against %s: concurrency %d, %.1fs", r.Target, r.Op, r.Endpoint, r.Concurrency, r.Elapsed)
	if r.SizeBytes > 0 {
		head += ", size " + FormatSize(r.SizeBytes)
	}
	if r.SSE != "" && r.SSE != "none" {
		head += ", sse " + r.SSE
	}
	if _, err := fmt.Fprintln(w, head); err != nil {
		return err
	}
	rows := [][]string{{"operation", "count", "ops/s", "MB/s", "p50", "p90", "p99", "max", "errors"}}
	for _, o := range r.Operations {
		mbs := "-"
		if o.Bytes > 0 {
			mbs = fmt.Sprintf("%.2f", o.MBPerSec)
		}
		rows = append(rows, []string{o.Operation, strconv.FormatUint(o.Count, 10), fmt.Sprintf("%.1f", o.OpsPerSec), mbs,
			fmtMS(o.Latency.P50, o.Count), fmtMS(o.Latency.P90, o.Count), fmtMS(o.Latency.P99, o.Count),
			fmtMS(o.Latency.Max, o.Count), fmtErrors(o)})
	}
	_, err := io.WriteString(w, alignColumns(rows))
	return err
}

// alignColumns lays rows out in columns: the first and last left-aligned (names and
// error codes), the figures between them right-aligned.
func alignColumns(rows [][]string) string {
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, cell := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			switch {
			case i == 0:
				b.WriteString(cell + pad)
			case i == len(row)-1:
				b.WriteString("  " + cell)
			default:
				b.WriteString("  " + pad + cell)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// fmtMS prints a latency in the unit that keeps it readable.
func fmtMS(v float64, count uint64) string {
	switch {
	case count == 0:
		return "-"
	case v < 1:
		return fmt.Sprintf("%.0fµs", v*1000)
	case v < 1000:
		return fmt.Sprintf("%.2fms", v)
	}
	return fmt.Sprintf("%.2fs", v/1000)
}

// fmtErrors prints "0" or the count followed by the codes, most frequent first.
func fmtErrors(o OpResult) string {
	if o.Errors == 0 {
		return "0"
	}
	codes := slices.Collect(maps.Keys(o.ErrorsByCode))
	slices.SortFunc(codes, func(a, b string) int {
		if o.ErrorsByCode[a] != o.ErrorsByCode[b] {
			if o.ErrorsByCode[a] > o.ErrorsByCode[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s×%d", c, o.ErrorsByCode[c])
	}
	return fmt.Sprintf("%d (%s)", o.Errors, strings.Join(parts, ", "))
}
