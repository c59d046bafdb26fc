// Package metrics is a small registry of counters, histograms and gauges written in the
// Prometheus text exposition format (version 0.0.4), so that Coffer needs no metrics module.
//
// A metric is registered once, at start-up, with the names of its labels; a request then
// picks its series with With(label values...) and updates it. Looking a series up takes no
// lock (the series of a metric are an immutable map, replaced whole when a new series
// appears, which stops happening once the label values seen are all known), and updates are
// atomic adds. Label values must come from small fixed sets (operation names, error codes),
// never from what clients name (buckets, keys, key ids, access keys): every distinct set of
// values is a series kept for the life of the process.
package metrics

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// MaxLabels is the most labels a metric may have.
const MaxLabels = 4

// ContentType is the media type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

var (
	nameRE  = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// Registry holds metrics and writes them out. Registering is for start-up: the methods panic
// on a bad or repeated name, which is a programming error.
type Registry struct {
	mu       sync.Mutex
	families map[string]family
}

// family is one metric name with its HELP and TYPE.
type family interface {
	write(b *strings.Builder)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{families: make(map[string]family)}
}

func (r *Registry) add(name string, f family) {
	if !nameRE.MatchString(name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.families[name]; ok {
		panic(fmt.Sprintf("metrics: %s registered twice", name))
	}
	r.families[name] = f
}

func checkLabels(labels []string) {
	if len(labels) > MaxLabels {
		panic(fmt.Sprintf("metrics: %d labels, at most %d", len(labels), MaxLabels))
	}
	for _, l := range labels {
		if !labelRE.MatchString(l) || strings.HasPrefix(l, "__") || l == "le" {
			panic(fmt.Sprintf("metrics: invalid label name %q", l))
		}
	}
}

// WriteText writes every metric in the text exposition format, families by name and series
// by label values, so that equal states write equal text.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	names := make([]string, 0, len(r.families))
	for n := range r.families {
		names = append(names, n)
	}
	fams := make([]family, len(names))
	slices.Sort(names)
	for i, n := range names {
		fams[i] = r.families[n]
	}
	r.mu.Unlock()
	var b strings.Builder
	for _, f := range fams {
		f.write(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Handler serves the registry's text (GET and HEAD).
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Cache-Control", "no-store")
		_ = r.WriteText(w)
	})
}

// key is the label values of one series.
type key [MaxLabels]string

func makeKey(names []string, values []string) key {
	if len(values) != len(names) {
		panic(fmt.Sprintf("metrics: %d label values for labels %v", len(values), names))
	}
	var k key
	copy(k[:], values)
	return k
}

// seriesMap is the series of a vector: read without locks, copied on a new series.
type seriesMap[T any] struct {
	m  atomic.Pointer[map[key]*T]
	mu sync.Mutex // serialises additions
}

func (s *seriesMap[T]) get(k key, make func() *T) *T {
	if m := s.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	next := make()
	m := map[key]*T{k: next}
	if old != nil {
		for k2, v := range *old {
			m[k2] = v
		}
	}
	s.m.Store(&m)
	return next
}

// sorted returns the series ordered by label values.
func (s *seriesMap[T]) sorted() ([]key, []*T) {
	m := s.m.Load()
	if m == nil {
		return nil, nil
	}
	keys := make([]key, 0, len(*m))
	for k := range *m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return slices.Compare(a[:], b[:]) })
	vals := make([]*T, len(keys))
	for i, k := range keys {
		vals[i] = (*m)[k]
	}
	return keys, vals
}

// header writes HELP and TYPE.
func header(b *strings.Builder, name, help, typ string) {
	b.WriteString("# HELP ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(escapeHelp(help))
	b.WriteString("\n# TYPE ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(typ)
	b.WriteByte('\n')
}

// sample writes one line: name{labels[,le="…"]} value.
func sample(b *strings.Builder, name string, names []string, k key, le string, value string) {
	b.WriteString(name)
	if len(names) > 0 || le != "" {
		b.WriteByte('{')
		for i, n := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n)
			b.WriteString(`="`)
			b.WriteString(escapeValue(k[i]))
			b.WriteByte('"')
		}
		if le != "" {
			if len(names) > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`le="`)
			b.WriteString(le)
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(value)
	b.WriteByte('\n')
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeValue(s string) string { return valueEscaper.Replace(s) }

// formatFloat writes a value as the format wants it: Go's shortest form, +Inf, -Inf, NaN.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
