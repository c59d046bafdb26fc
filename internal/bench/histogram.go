package bench

import (
	"math"
	"math/bits"
	"time"
)

// The histogram keeps latencies in log-linear buckets, as HdrHistogram does: every power of
// two is split into 2^subBits equal sub-buckets, so any recorded value is known to within
// 1/2^subBits (1.6 %) of itself, and the memory used is fixed whatever the run's length.
const (
	subBits    = 6
	subCount   = 1 << subBits
	maxBitLen  = 42 // values up to 2^42 ns (73 minutes); longer latencies are clamped
	numBuckets = (maxBitLen-subBits)*subCount + subCount
)

// Histogram records durations in a fixed amount of memory. The zero value is ready to use.
// It is not safe for concurrent use: each worker keeps its own and they are merged at the end.
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    uint64 // nanoseconds, for the mean
	min    uint64
	max    uint64
}

// bucketOf returns the bucket holding v nanoseconds.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	l := bits.Len64(v)
	if l > maxBitLen {
		return numBuckets - 1
	}
	shift := l - subBits - 1
	return shift*subCount + int(v>>uint(shift))
}

// bucketRange returns the smallest and largest value that fall in bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	shift := i/subCount - 1
	top := uint64(i - shift*subCount)
	lo = top << uint(shift)
	return lo, lo + (1 << uint(shift)) - 1
}

// Record adds one observation. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += v
}

// Merge adds every observation of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of observations.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest observation, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the average observation, exactly (0 when empty).
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}

// Quantile returns the value at quantile q (0 < q <= 1): the smallest recorded value v such
// that at least q of all observations are <= v, to within the bucket resolution. It reports
// the middle of the bucket, clamped to the exact minimum and maximum.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	// The small epsilon keeps 0.99*1000 (990.0000000000001 in floating point) at rank 990.
	rank := uint64(math.Ceil(q*float64(h.n) - 1e-9))
	rank = min(max(rank, 1), h.n)
	if rank == h.n {
		return time.Duration(h.max) // known exactly, and may lie beyond the last bucket
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			v := lo + (hi-lo)/2
			return time.Duration(min(max(v, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
