package metatest

import (
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/coffer/coffer/internal/meta"
)

// testReplaceEncryption checks the compare-and-swap of UpdateObjectEncryption: the record is
// replaced, and nothing else, only while the object is still the write that was read.
func testReplaceEncryption(t *testing.T, s meta.Store) {
	mustBucket(t, s, "re")
	sealed := func(b byte) *meta.Encryption {
		return &meta.Encryption{Algorithm: meta.SSES3, SealedKey: meta.Sealed{b, b}}
	}
	rewrapped := &meta.Encryption{Algorithm: meta.SSEKMS, SealedKey: meta.Sealed{7}, KMSKeyARN: "arn:k2",
		WrappedKey: meta.Sealed{8}, BucketKey: "bk", Context: map[string]string{"a": "b"}}
	objects := map[string]meta.Object{
		"inline": {Bucket: "re", Key: "inline", Size: 2, ETag: "e1", LastModified: t0, Encryption: sealed(1),
			Checksums: map[string]string{"CRC32": "AAAAAA=="}, ChecksumType: "FULL_OBJECT",
			Parts: []meta.Part{{Inline: []byte{9, 9}, Size: 2, ETag: "e1"}}},
		"blobs": {Bucket: "re", Key: "blobs", Size: 6, ETag: "e2-2", LastModified: t0, Encryption: sealed(2),
			UploadID: "up", PartsCount: 2, UserMeta: map[string]string{"m": "v"},
			Parts: []meta.Part{{Number: 1, Blob: "p/1", Size: 3, ETag: "a"}, {Number: 2, Blob: "p/2", Size: 3, ETag: "b"}}},
	}
	for name, o := range objects {
		t.Run("replaces only the record/"+name, func(t *testing.T) {
			mustPut(t, s, o)
			read, err := s.GetObject(ctx, "re", name)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.ReplaceEncryption(ctx, read, rewrapped); err != nil {
				t.Fatalf("ReplaceEncryption: %v", err)
			}
			got, err := s.GetObject(ctx, "re", name)
			if err != nil {
				t.Fatal(err)
			}
			want := read
			want.Encryption = rewrapped
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("after ReplaceEncryption\n got %+v\nwant %+v", got, want)
			}
			wantErr(t, "ReplaceEncryption with the record read before", s.ReplaceEncryption(ctx, read, sealed(3)), meta.ErrObjectChanged)
		})
	}
	refusals := []struct {
		name   string
		change func(t *testing.T, read meta.Object)
		want   error
	}{
		{"overwritten", func(t *testing.T, read meta.Object) {
			o := read
			o.Encryption, o.Parts = sealed(4), []meta.Part{{Inline: []byte{1, 1}, Size: 2, ETag: "e1"}}
			mustPut(t, s, o)
		}, meta.ErrObjectChanged},
		{"overwritten with the same bytes", func(t *testing.T, read meta.Object) {
			o := read
			o.Encryption = sealed(5)
			mustPut(t, s, o)
		}, meta.ErrObjectChanged},
		{"deleted", func(t *testing.T, read meta.Object) {
			if _, err := s.DeleteObject(ctx, "re", read.Key); err != nil {
				t.Fatal(err)
			}
		}, meta.ErrNoSuchKey},
	}
	for _, tc := range refusals {
		t.Run("refused when "+tc.name, func(t *testing.T) {
			mustPut(t, s, meta.Object{Bucket: "re", Key: "r", Size: 2, ETag: "e1", Encryption: sealed(6),
				Parts: []meta.Part{{Inline: []byte{9, 9}, Size: 2, ETag: "e1"}}})
			read, err := s.GetObject(ctx, "re", "r")
			if err != nil {
				t.Fatal(err)
			}
			tc.change(t, read)
			before, beforeErr := s.GetObject(ctx, "re", "r")
			wantErr(t, "ReplaceEncryption", s.ReplaceEncryption(ctx, read, rewrapped), tc.want)
			after, afterErr := s.GetObject(ctx, "re", "r")
			if !reflect.DeepEqual(after, before) || (afterErr == nil) != (beforeErr == nil) {
				t.Fatalf("a refused ReplaceEncryption changed the object: %+v (%v), was %+v (%v)", after, afterErr, before, beforeErr)
			}
		})
	}
	t.Run("missing bucket", func(t *testing.T) {
		err := s.ReplaceEncryption(ctx, meta.Object{Bucket: "nope", Key: "k"}, rewrapped)
		wantErr(t, "ReplaceEncryption", err, meta.ErrNoSuchBucket)
	})
	t.Run("concurrent swaps from one read: one wins", func(t *testing.T) {
		mustPut(t, s, meta.Object{Bucket: "re", Key: "c", Size: 1, ETag: "c", Encryption: sealed(7),
			Parts: []meta.Part{{Inline: []byte{1}, Size: 1, ETag: "c"}}})
		read, err := s.GetObject(ctx, "re", "c")
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = s.ReplaceEncryption(ctx, read, sealed(byte(10+i))) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, meta.ErrObjectChanged):
				t.Fatalf("ReplaceEncryption = %v, want nil or ErrObjectChanged", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d concurrent swaps from one read succeeded, want 1", won, n)
		}
	})
}
