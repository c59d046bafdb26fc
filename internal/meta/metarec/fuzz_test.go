package metarec

import (
	"bytes"
	"testing"

	"github.com/coffer/coffer/internal/fuzzseed"

	"github.com/coffer/coffer/internal/meta"
)

func FuzzDecodeRecords(f *testing.F) {
	fuzzseed.Require(f)
	rec, err := EncodeObject(meta.Object{Key: "k", Size: 3, Parts: []meta.Part{{Number: 1, Blob: "b"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rec)
	f.Add([]byte{V1, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Any bytes: an error or a record that re-encodes to something that decodes the same.
		o, err := DecodeObject("b", "k", b)
		if err == nil {
			again, err := EncodeObject(o)
			if err != nil {
				t.Fatal(err)
			}
			o2, err := DecodeObject("b", "k", again)
			if err != nil {
				t.Fatalf("re-encoded record does not decode: %v", err)
			}
			if e2, _ := EncodeObject(o2); !bytes.Equal(e2, again) {
				t.Fatal("encoding is not stable")
			}
		}
		DecodeUpload("b", "k", "u", b)
		DecodePart(b)
		DecodeBucket("b", b)
		if in, err := DecodeIntent("o/x", b); err == nil {
			again, err := EncodeIntent(in)
			if err != nil {
				t.Fatal(err)
			}
			if in2, err := DecodeIntent("o/x", again); err != nil || in2 != in {
				t.Fatalf("re-encoded intent %+v, %v; want %+v", in2, err, in)
			}
		}
		if len(b) > 0 && b[0] != V1 {
			if _, err := DecodeObject("b", "k", b); err == nil {
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
		{"before ownership", append([]byte{V1}, `{"r":"eu-west-1","o":"111122223333","c":1}`...), ""},
		{"with ownership", append([]byte{V1}, `{"o":"111122223333","ow":"ObjectWriter"}`...), "ObjectWriter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := DecodeBucket("b", tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			if b.ObjectOwnership != tc.want || b.Owner != "111122223333" {
				t.Fatalf("decoded %+v, want ownership %q", b, tc.want)
			}
			again, err := EncodeBucket(b)
			if err != nil {
				t.Fatal(err)
			}
			if b2, err := DecodeBucket("b", again); err != nil || b2 != b {
				t.Fatalf("round trip %+v, %v; want %+v", b2, err, b)
			}
		})
	}
}
