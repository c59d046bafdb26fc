package bench

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// signalWriter collects writes and signals after the first one.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	first chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.once.Do(func() { close(w.first) })
	return w.buf.Write(p)
}

func TestProgressLine(t *testing.T) {
	w := &signalWriter{first: make(chan struct{})}
	var c counters
	c.ops.Store(42)
	c.errs.Store(3)
	stop := startProgress(w, &c, time.Now(), 5*time.Millisecond)
	<-w.first
	stop()
	w.mu.Lock()
	out := w.buf.String()
	w.mu.Unlock()
	if !strings.HasPrefix(out, "\r\033[K") || !strings.Contains(out, "42 ops") || !strings.Contains(out, "3 errors") || !strings.Contains(out, "ops/s") {
		t.Errorf("progress line %q", out)
	}
	if !strings.HasSuffix(out, "\r\033[K") || strings.Contains(out, "\n") {
		t.Errorf("the line must be erased at the end and never scroll: %q", out)
	}
	if stop := startProgress(nil, &c, time.Now(), time.Millisecond); stop == nil {
		t.Error("nil writer must still give a stop function")
	} else {
		stop()
	}
}

// TestRunLoad drives the worker loop with a fake operation, so the counting is checked
// without a server. The run ends once every worker has made a few requests (not at a time
// limit, which a loaded machine may reach before it schedules every worker).
func TestRunLoad(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const workers, each = 3, 8
	var mu sync.Mutex
	seen := map[int]uint64{}
	fail := errors.New("boom")
	op := func(ctx context.Context, w *worker) (string, int64, error) {
		mu.Lock()
		seen[w.id] = w.seq
		done := len(seen) == workers
		for _, n := range seen {
			done = done && n >= each
		}
		mu.Unlock()
		if done {
			cancel()
		}
		if w.seq%4 == 0 {
			return "PUT", 0, fail
		}
		return "PUT", 10, nil
	}
	stats, _ := runLoad(ctx, workers, time.Minute, op, nil)
	s := stats["PUT"]
	if s == nil {
		t.Fatal("no PUT stats")
	}
	var total uint64
	for _, n := range seen {
		total += n
	}
	if len(seen) != workers {
		t.Errorf("%d workers ran, want %d", len(seen), workers)
	}
	if got := s.hist.Count() + s.errorCount(); got != total {
		t.Errorf("%d outcomes recorded for %d requests", got, total)
	}
	if s.bytes != int64(s.hist.Count())*10 {
		t.Errorf("%d bytes for %d successes", s.bytes, s.hist.Count())
	}
	if s.errors["ClientError"] != s.errorCount() || s.sample["ClientError"] != "boom" {
		t.Errorf("errors %v, sample %q", s.errors, s.sample["ClientError"])
	}
}

// TestRunLoadDuration: a run lasts at least as long as asked.
func TestRunLoadDuration(t *testing.T) {
	op := func(ctx context.Context, w *worker) (string, int64, error) { return "GET", 1, nil }
	if _, elapsed := runLoad(context.Background(), 2, 50*time.Millisecond, op, nil); elapsed < 50*time.Millisecond {
		t.Errorf("elapsed %v, shorter than asked", elapsed)
	}
}

func TestRunLoadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	op := func(ctx context.Context, w *worker) (string, int64, error) {
		if w.seq == 3 {
			cancel()
			<-ctx.Done()
			return "GET", 0, ctx.Err()
		}
		return "GET", 1, nil
	}
	stats, _ := runLoad(ctx, 1, time.Hour, op, nil)
	if s := stats["GET"]; s == nil || s.hist.Count() != 2 || s.errorCount() != 0 {
		t.Errorf("a request cut off by Ctrl-C must count as neither success nor error: %+v", s)
	}
}
