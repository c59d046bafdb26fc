package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// worker is one of the --concurrency loops. Its fields belong to it alone.
type worker struct {
	id    int
	seq   uint64 // requests this worker has started
	rng   *rand.Rand
	buf   []byte  // scratch for reading response bodies
	token *string // where this worker's listing resumes
	stats map[string]*opStats
}

// opFunc performs one request and says which operation it was and how many object bytes it
// moved.
type opFunc func(ctx context.Context, w *worker) (op string, n int64, err error)

// counters feed the progress line while workers run.
type counters struct {
	ops, errs atomic.Uint64
}

// runLoad runs conc workers calling op until d has passed (requests in flight then are let
// finish, so that large transfers are not cut off and miscounted) or ctx ends. It returns
// the merged observations and the time from the first request to the last response.
func runLoad(ctx context.Context, conc int, d time.Duration, op opFunc, progress io.Writer) (map[string]*opStats, time.Duration) {
	var c counters
	workers := make([]*worker, conc)
	for i := range workers {
		workers[i] = &worker{
			id:    i,
			rng:   rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i))),
			buf:   make([]byte, 256<<10),
			stats: map[string]*opStats{},
		}
	}
	start := time.Now()
	deadline := start.Add(d)
	stopProgress := startProgress(progress, &c, start, time.Second)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				w.seq++
				t0 := time.Now()
				name, n, err := op(ctx, w)
				lat := time.Since(t0)
				if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
					return // interrupted by the user: neither a result nor an error
				}
				s := w.stats[name]
				if s == nil {
					s = newOpStats()
					w.stats[name] = s
				}
				if err != nil {
					code := errorCode(err)
					s.errors[code]++
					if _, ok := s.sample[code]; !ok {
						s.sample[code] = oneLine(err)
					}
					c.errs.Add(1)
					continue
				}
				s.hist.Record(lat)
				s.bytes += n
				c.ops.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	merged := map[string]*opStats{}
	for _, w := range workers {
		for name, s := range w.stats {
			if merged[name] == nil {
				merged[name] = newOpStats()
			}
			merged[name].merge(s)
		}
	}
	return merged, elapsed
}

// startProgress rewrites one status line on w every interval, until the returned function
// is called, which erases it. A nil w shows nothing.
func startProgress(w io.Writer, c *counters, start time.Time, interval time.Duration) func() {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		last, lastAt := uint64(0), start
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case now := <-t.C:
				ops := c.ops.Load()
				rate := float64(ops-last) / now.Sub(lastAt).Seconds()
				last, lastAt = ops, now
				fmt.Fprintf(w, "\r\033[K%5.0fs  %d ops  %.1f ops/s  %d errors", now.Sub(start).Seconds(), ops, rate, c.errs.Load())
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
