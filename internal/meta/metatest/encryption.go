package metatest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/coffer/coffer/internal/meta"
)

// testBucketEncryption checks that UpdateBucket stores the default-encryption configuration
// and that a failing update changes nothing.
func testBucketEncryption(t *testing.T, s meta.Store) {
	ctx := context.Background()
	mustBucket(t, s, "enc")
	want := &meta.BucketEncryption{Algorithm: meta.SSES3, BucketKeyEnabled: true, BlockedEncryptionTypes: []string{"SSE-C"}}
	tests := []struct {
		name string
		fn   func(*meta.Bucket) error
		want *meta.BucketEncryption
		err  error
	}{
		{"set", func(b *meta.Bucket) error { b.Encryption = want; return nil }, want, nil},
		{"failing update changes nothing", func(b *meta.Bucket) error { b.Encryption = nil; return errors.New("no") }, want, errors.New("no")},
		{"delete", func(b *meta.Bucket) error { b.Encryption = nil; return nil }, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.UpdateBucket(ctx, "enc", tc.fn)
			if (err != nil) != (tc.err != nil) {
				t.Fatalf("UpdateBucket = %v, want error %v", err, tc.err)
			}
			b, err := s.GetBucket(ctx, "enc")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(b.Encryption, tc.want) {
				t.Fatalf("Encryption = %+v, want %+v", b.Encryption, tc.want)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		err := s.UpdateBucket(ctx, "nope", func(*meta.Bucket) error { return nil })
		wantErr(t, "UpdateBucket", err, meta.ErrNoSuchBucket)
	})
}

// testEncryptionRecords checks that the encryption record of objects and uploads round-trips,
// and that a plaintext object has none.
func testEncryptionRecords(t *testing.T, s meta.Store) {
	ctx := context.Background()
	mustBucket(t, s, "enc")
	enc := &meta.Encryption{Algorithm: meta.SSES3, SealedKey: meta.Sealed{1, 2, 3}, KMSKeyARN: "arn:k",
		Context: map[string]string{"a": "b"}, WrappedKey: meta.Sealed{4}, BucketKey: "bk"}
	t.Run("object", func(t *testing.T) {
		o := meta.Object{Bucket: "enc", Key: "x", Size: 1, ETag: "e", Encryption: enc,
			Parts: []meta.Part{{Inline: []byte{9, 9}, Size: 1, ETag: "e"}}}
		if _, err := s.PutObject(ctx, o); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetObject(ctx, "enc", "x")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Encryption, enc) {
			t.Fatalf("Encryption = %+v, want %+v", got.Encryption, enc)
		}
		list, err := s.ListObjects(ctx, "enc", meta.ListOptions{})
		if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0].Encryption, enc) {
			t.Fatalf("ListObjects = %+v, %v", list, err)
		}
	})
	t.Run("plaintext object", func(t *testing.T) {
		if _, err := s.PutObject(ctx, meta.Object{Bucket: "enc", Key: "plain", Parts: []meta.Part{{Inline: []byte{1}, Size: 1}}, Size: 1}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetObject(ctx, "enc", "plain")
		if err != nil || got.Encryption != nil {
			t.Fatalf("GetObject = %+v, %v; want no encryption record", got.Encryption, err)
		}
	})
	t.Run("upload", func(t *testing.T) {
		if err := s.CreateUpload(ctx, meta.Upload{Bucket: "enc", Key: "u", UploadID: "id1", Encryption: enc}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetUpload(ctx, "enc", "u", "id1")
		if err != nil || !reflect.DeepEqual(got.Encryption, enc) {
			t.Fatalf("GetUpload = %+v, %v", got.Encryption, err)
		}
	})
}
