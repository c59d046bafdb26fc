package boltmeta

import (
	"bytes"
	"cmp"
	"testing"

	"github.com/coffer/coffer/internal/fuzzseed"
)

func TestUploadKeyOrder(t *testing.T) {
	// Sorted by (key, id); keys contain the bytes the encoding escapes.
	pairs := [][2]string{
		{"a", "1"}, {"a", "2"}, {"a", "\xff"}, {"a\x00", ""}, {"a\x00", "1"}, {"a\x00\x00", "0"},
		{"a\x00\x01", "0"}, {"a\x01", "0"}, {"a/b", "0"}, {"ab", "0"}, {"b", "0"},
	}
	for i := 1; i < len(pairs); i++ {
		p, q := pairs[i-1], pairs[i]
		if bytes.Compare(uploadKey(p[0], p[1]), uploadKey(q[0], q[1])) >= 0 {
			t.Errorf("uploadKey%q does not sort before uploadKey%q", p, q)
		}
	}
	for _, p := range pairs {
		k, id, ok := splitUploadKey(uploadKey(p[0], p[1]))
		if !ok || k != p[0] || id != p[1] {
			t.Errorf("splitUploadKey(uploadKey%q) = %q, %q, %v", p, k, id, ok)
		}
	}
	for _, bad := range []string{"", "a", "a\x00", "a\x00\x02b", "\x00"} {
		if _, _, ok := splitUploadKey([]byte(bad)); ok {
			t.Errorf("splitUploadKey(%q) accepted a malformed key", bad)
		}
	}
}

func FuzzUploadKey(f *testing.F) {
	fuzzseed.Require(f)
	f.Add("a", "1", "a\x00", "0")
	f.Add("k", "x", "k", "y")
	f.Fuzz(func(t *testing.T, k1, id1, k2, id2 string) {
		e1, e2 := uploadKey(k1, id1), uploadKey(k2, id2)
		k, id, ok := splitUploadKey(e1)
		if !ok || k != k1 || id != id1 {
			t.Fatalf("round trip of %q, %q = %q, %q, %v", k1, id1, k, id, ok)
		}
		want := cmp.Or(cmp.Compare(k1, k2), cmp.Compare(id1, id2))
		if got := bytes.Compare(e1, e2); got != want {
			t.Fatalf("order of (%q,%q) vs (%q,%q): encoded %d, want %d", k1, id1, k2, id2, got, want)
		}
		if !bytes.HasPrefix(e1, escapedPrefix(k1[:len(k1)/2])) {
			t.Fatalf("encoding of %q does not start with its prefix's", k1)
		}
	})
}
