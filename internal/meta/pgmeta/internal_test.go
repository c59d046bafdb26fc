package pgmeta

import (
	"bytes"
	"testing"
)

// TestPrefixEnd: the end of a prefix's key range is the least byte string above every key
// with the prefix, and there is none for a prefix of 0xff bytes.
func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		want   []byte
	}{
		{"ascii", "a/", []byte("a0")},
		{"trailing ff", "a\xff", []byte("b")},
		{"trailing ff ff", "a\xff\xff", []byte("b")},
		{"non-ascii", "\u00e9", []byte{0xc3, 0xaa}},
		{"all ff", "\xff\xff", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := prefixEnd(tc.prefix)
			if !bytes.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Fatalf("prefixEnd(%q) = %q, want %q", tc.prefix, got, tc.want)
			}
			if got != nil && (bytes.Compare(got, []byte(tc.prefix+"\xff\xff\xff")) <= 0 || bytes.HasPrefix(got, []byte(tc.prefix))) {
				t.Fatalf("prefixEnd(%q) = %q is not above the prefix's keys", tc.prefix, got)
			}
		})
	}
}
