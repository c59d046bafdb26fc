package metrics

import (
	"strconv"
	"strings"
	"sync/atomic"
)

// Counter is one series of a counter: a count that only goes up.
type Counter struct{ v atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Value returns the count.
func (c *Counter) Value() uint64 { return c.v.Load() }

// CounterVec is a counter with labels.
type CounterVec struct {
	name, help string
	labels     []string
	series     seriesMap[Counter]
}

// Counter registers a counter with the given label names (none for a single series).
func (r *Registry) Counter(name, help string, labels ...string) *CounterVec {
	checkLabels(labels)
	v := &CounterVec{name: name, help: help, labels: labels}
	r.add(name, v)
	return v
}

// With returns the series of the label values, in the order of the label names, creating
// it on first use. Keep the *Counter for label values known in advance.
func (v *CounterVec) With(values ...string) *Counter {
	return v.series.get(makeKey(v.labels, values), newCounter)
}

func newCounter() *Counter { return new(Counter) }

func (v *CounterVec) write(b *strings.Builder) {
	header(b, v.name, v.help, "counter")
	keys, cs := v.series.sorted()
	for i, c := range cs {
		sample(b, v.name, v.labels, keys[i], "", strconv.FormatUint(c.Value(), 10))
	}
}
