package bench

import (
	"math/rand/v2"
	"testing"
	"time"
)

// relErr is the worst relative error the bucket layout allows.
const relErr = 1.0 / subCount

func near(got, want time.Duration) bool {
	d := float64(got - want)
	if d < 0 {
		d = -d
	}
	return d <= relErr*float64(want)+1
}

func TestHistogramQuantiles(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		want   map[float64]time.Duration
		max    time.Duration
		mean   time.Duration
	}{
		{
			name:   "one to a thousand ms",
			values: seq(1000, time.Millisecond),
			want:   map[float64]time.Duration{0.5: 500 * time.Millisecond, 0.9: 900 * time.Millisecond, 0.99: 990 * time.Millisecond, 1: 1000 * time.Millisecond},
			max:    1000 * time.Millisecond,
			mean:   500500 * time.Microsecond,
		},
		{
			name:   "small values are exact",
			values: []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
			want:   map[float64]time.Duration{0.5: 5, 0.9: 9, 0.99: 10, 0.1: 1},
			max:    10,
			mean:   5,
		},
		{
			name:   "a tail",
			values: append(repeat(99, 2*time.Millisecond), 3*time.Second),
			want:   map[float64]time.Duration{0.5: 2 * time.Millisecond, 0.99: 2 * time.Millisecond, 0.999: 3 * time.Second},
			max:    3 * time.Second,
			mean:   (99*2*time.Millisecond + 3*time.Second) / 100,
		},
		{
			name:   "a single value",
			values: []time.Duration{1234567 * time.Nanosecond},
			want:   map[float64]time.Duration{0.5: 1234567, 0.99: 1234567},
			max:    1234567,
			mean:   1234567,
		},
		{
			name:   "empty",
			values: nil,
			want:   map[float64]time.Duration{0.5: 0, 0.99: 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			// Recording order must not matter.
			for _, i := range rand.Perm(len(tc.values)) {
				h.Record(tc.values[i])
			}
			if h.Count() != uint64(len(tc.values)) {
				t.Errorf("Count = %d, want %d", h.Count(), len(tc.values))
			}
			for q, want := range tc.want {
				if got := h.Quantile(q); !near(got, want) {
					t.Errorf("Quantile(%v) = %v, want %v ±%.1f%%", q, got, want, relErr*100)
				}
			}
			if h.Max() != tc.max {
				t.Errorf("Max = %v, want exactly %v", h.Max(), tc.max)
			}
			if h.Mean() != tc.mean {
				t.Errorf("Mean = %v, want %v", h.Mean(), tc.mean)
			}
		})
	}
}

func TestHistogramBuckets(t *testing.T) {
	t.Run("every value within its bucket", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for range 100000 {
			v := r.Uint64N(1 << maxBitLen)
			v >>= r.UintN(maxBitLen) // spread over all magnitudes
			i := bucketOf(v)
			lo, hi := bucketRange(i)
			if v < lo || v > hi {
				t.Fatalf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
			}
			if float64(hi-lo) > relErr*float64(lo)+1 {
				t.Fatalf("bucket %d = [%d, %d] wider than %.1f%%", i, lo, hi, relErr*100)
			}
		}
	})
	t.Run("buckets tile the range", func(t *testing.T) {
		_, prevHi := bucketRange(0)
		for i := 1; i < numBuckets; i++ {
			lo, hi := bucketRange(i)
			if lo != prevHi+1 || hi < lo {
				t.Fatalf("bucket %d = [%d, %d] after one ending at %d", i, lo, hi, prevHi)
			}
			prevHi = hi
		}
	})
	t.Run("huge and negative values are clamped", func(t *testing.T) {
		var h Histogram
		h.Record(-time.Second)
		h.Record(time.Duration(1 << 62))
		if got := h.Quantile(0.5); got != 0 {
			t.Errorf("p50 = %v, want 0", got)
		}
		if got := h.Quantile(1); got != time.Duration(1<<62) {
			t.Errorf("p100 = %v, want the exact max", got)
		}
	})
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all Histogram
	for i, v := range seq(5000, 37*time.Microsecond) {
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
		all.Record(v)
	}
	var empty Histogram
	a.Merge(&b)
	a.Merge(&empty)
	if a != all {
		t.Fatalf("merged histogram differs from one fed everything: count %d vs %d, max %v vs %v", a.Count(), all.Count(), a.Max(), all.Max())
	}
	empty.Merge(&all)
	if empty != all {
		t.Fatal("merging into an empty histogram lost its minimum or maximum")
	}
}

func seq(n int, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * step
	}
	return out
}

func repeat(n int, v time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = v
	}
	return out
}
