package metrics

import (
	"strings"
	"sync"
)

// Label is a label name and value of a series whose value is read when written out.
type Label struct{ Name, Value string }

// funcFamily is a counter or gauge whose series are read from functions at each write: for
// counts a service keeps itself (cache hits, say), so that it needs no metrics of its own.
type funcFamily struct {
	name, help, typ string
	mu              sync.Mutex
	series          []funcSeries
}

type funcSeries struct {
	labels []Label
	read   func() float64
}

// CounterFunc adds a counter series read from read at each write; calls with one name add
// series to one metric, and must all be counters with the same help.
func (r *Registry) CounterFunc(name, help string, read func() float64, labels ...Label) {
	r.addFunc(name, help, "counter", read, labels)
}

// GaugeFunc adds a gauge series read from read at each write, as CounterFunc.
func (r *Registry) GaugeFunc(name, help string, read func() float64, labels ...Label) {
	r.addFunc(name, help, "gauge", read, labels)
}

func (r *Registry) addFunc(name, help, typ string, read func() float64, labels []Label) {
	names := make([]string, len(labels))
	for i, l := range labels {
		names[i] = l.Name
	}
	checkLabels(names)
	r.mu.Lock()
	f, ok := r.families[name].(*funcFamily)
	r.mu.Unlock()
	if !ok {
		f = &funcFamily{name: name, help: help, typ: typ}
		r.add(name, f) // panics if name is taken by another kind of metric
	}
	if f.typ != typ || f.help != help {
		panic("metrics: " + name + " registered with another type or help")
	}
	f.mu.Lock()
	f.series = append(f.series, funcSeries{labels: labels, read: read})
	f.mu.Unlock()
}

func (f *funcFamily) write(b *strings.Builder) {
	f.mu.Lock()
	series := f.series
	f.mu.Unlock()
	header(b, f.name, f.help, f.typ)
	for _, s := range series {
		names := make([]string, len(s.labels))
		var k key
		for i, l := range s.labels {
			names[i], k[i] = l.Name, l.Value
		}
		sample(b, f.name, names, k, "", formatFloat(s.read()))
	}
}
