package boltmeta

import (
	"bytes"
	"cmp"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer/coffer/internal/meta"
)

// requireSeeds fails a fuzz test whose checked-in corpus is missing, so that a plain go test
// always runs real seeds.
func requireSeeds(f *testing.F) {
	f.Helper()
	ents, err := os.ReadDir(filepath.Join("testdata", "fuzz", f.Name()))
	if err != nil || len(ents) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/%s (err %v)", f.Name(), err)
	}
}

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
	requireSeeds(f)
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

func FuzzDecodeRecords(f *testing.F) {
	requireSeeds(f)
	rec, err := encObject(meta.Object{Key: "k", Size: 3, Parts: []meta.Part{{Number: 1, Blob: "b"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rec)
	f.Add([]byte{recordV1, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Any bytes: an error or a record that re-encodes to something that decodes the same.
		o, err := decObject("b", "k", b)
		if err == nil {
			again, err := encObject(o)
			if err != nil {
				t.Fatal(err)
			}
			o2, err := decObject("b", "k", again)
			if err != nil {
				t.Fatalf("re-encoded record does not decode: %v", err)
			}
			if e2, _ := encObject(o2); !bytes.Equal(e2, again) {
				t.Fatal("encoding is not stable")
			}
		}
		decUpload("b", "k", "u", b)
		decPart(b)
		decBucket("b", b)
		if len(b) > 0 && b[0] != recordV1 {
			if _, err := decObject("b", "k", b); err == nil {
				t.Fatal("accepted an unknown version")
			}
		}
	})
}

// TestBucketRecordCompatibility: a bucket record written before ObjectOwnership existed reads
// with the default (""), and a record with it round-trips.
func TestBucketRecordCompatibility(t *testing.T) {
	cases := []struct {
		name string
		rec  []byte
		want string
	}{
		{"before ownership", append([]byte{recordV1}, `{"r":"eu-west-1","o":"111122223333","c":1}`...), ""},
		{"with ownership", append([]byte{recordV1}, `{"o":"111122223333","ow":"ObjectWriter"}`...), "ObjectWriter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := decBucket("b", tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			if b.ObjectOwnership != tc.want || b.Owner != "111122223333" {
				t.Fatalf("decoded %+v, want ownership %q", b, tc.want)
			}
			again, err := encBucket(b)
			if err != nil {
				t.Fatal(err)
			}
			if b2, err := decBucket("b", again); err != nil || b2 != b {
				t.Fatalf("round trip %+v, %v; want %+v", b2, err, b)
			}
		})
	}
}
