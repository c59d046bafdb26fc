package metrics

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// DurationBuckets returns upper bounds, in seconds, for request and store latencies: from a
// cached metadata read (well under a millisecond) to a large object streamed for a minute.
func DurationBuckets() []float64 {
	return []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
}

// Histogram is one series of a histogram: counts of observations by upper bound, and their
// sum.
type Histogram struct {
	bounds []float64       // shared by the vector's series, ascending
	counts []atomic.Uint64 // per bucket, not cumulative; the last is above every bound
	sum    atomic.Uint64   // float64 bits
}

// Observe records one value.
func (h *Histogram) Observe(v float64) {
	// A linear scan beats a binary search over a dozen or so bounds.
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// HistogramVec is a histogram with labels.
type HistogramVec struct {
	name, help string
	labels     []string
	bounds     []float64
	les        []string // bounds as written in le=
	series     seriesMap[Histogram]
}

// Histogram registers a histogram with ascending finite upper bounds (+Inf is implied) and
// the given label names.
func (r *Registry) Histogram(name, help string, bounds []float64, labels ...string) *HistogramVec {
	checkLabels(labels)
	for i, b := range bounds {
		if math.IsInf(b, 0) || math.IsNaN(b) || i > 0 && b <= bounds[i-1] {
			panic(fmt.Sprintf("metrics: %s: bounds must be finite and strictly ascending", name))
		}
	}
	if len(bounds) == 0 {
		panic(fmt.Sprintf("metrics: %s: no bounds", name))
	}
	v := &HistogramVec{name: name, help: help, labels: labels, bounds: slices.Clone(bounds)}
	for _, b := range v.bounds {
		v.les = append(v.les, formatFloat(b))
	}
	r.add(name, v)
	return v
}

// With returns the series of the label values, creating it on first use.
func (v *HistogramVec) With(values ...string) *Histogram {
	return v.series.get(makeKey(v.labels, values), v.newHistogram)
}

func (v *HistogramVec) newHistogram() *Histogram {
	return &Histogram{bounds: v.bounds, counts: make([]atomic.Uint64, len(v.bounds)+1)}
}

func (v *HistogramVec) write(b *strings.Builder) {
	header(b, v.name, v.help, "histogram")
	keys, hs := v.series.sorted()
	for i, h := range hs {
		// Read the buckets once: _count is their total, so +Inf and _count always agree.
		var cum uint64
		for j := range h.counts {
			cum += h.counts[j].Load()
			le := "+Inf"
			if j < len(v.les) {
				le = v.les[j]
			}
			sample(b, v.name+"_bucket", v.labels, keys[i], le, strconv.FormatUint(cum, 10))
		}
		sample(b, v.name+"_sum", v.labels, keys[i], "", formatFloat(math.Float64frombits(h.sum.Load())))
		sample(b, v.name+"_count", v.labels, keys[i], "", strconv.FormatUint(cum, 10))
	}
}
