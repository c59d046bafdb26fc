package s3blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/blobtest"
	"github.com/coffer/coffer/internal/blob/s3blob"
)

// randomBytes returns n bytes from seed.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// uploadsUnder lists the multipart uploads in flight under prefix.
func (c *coffer) uploadsUnder(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := c.admin.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{
		Bucket: aws.String(testBucket), Prefix: aws.String(prefix),
	})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// failAfter yields zeros and then, past n bytes, calls fail and returns what it returns.
type failAfter struct {
	n    int
	fail func() error
}

func (r *failAfter) Read(p []byte) (int, error) {
	if r.n <= 0 {
		if err := r.fail(); err != nil {
			return 0, err
		}
	}
	k := min(len(p), max(r.n, 1))
	clear(p[:k])
	r.n -= k
	return k, nil
}

// TestFailedMultipartPutLeavesNothing fails Puts after some parts were uploaded and checks that
// neither the blob nor its upload is left.
func TestFailedMultipartPutLeavesNothing(t *testing.T) {
	c := startCoffer(t)
	broken := errors.New("body broke")
	tests := []struct {
		name string
		// body returns the reader to Put and the error Put must wrap.
		body func(cancel context.CancelFunc) (io.Reader, error)
	}{
		{"cancelled", func(cancel context.CancelFunc) (io.Reader, error) {
			return &failAfter{n: 2*s3blob.DefaultPartSize + 100, fail: func() error { cancel(); return nil }}, context.Canceled
		}},
		{"reader-error", func(context.CancelFunc) (io.Reader, error) {
			return &failAfter{n: s3blob.DefaultPartSize + 100, fail: func() error { return broken }}, broken
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := c.freshPrefix()
			s := storeCfg(t, c.config(prefix))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r, want := tc.body(cancel)
			name := "mp/" + string(rune('a'+i))
			if _, err := s.Put(ctx, name, r); !errors.Is(err, want) {
				t.Fatalf("Put = %v, want it to wrap %v", err, want)
			}
			if _, err := s.Open(context.Background(), name); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("Open after failed Put = %v, want ErrNotFound", err)
			}
			if ups := c.uploadsUnder(t, prefix); len(ups) != 0 {
				t.Fatalf("uploads left after failed Put: %q", ups)
			}
		})
	}
}

// TestLargeBlob round-trips a blob of several parts and reads it at random offsets.
func TestLargeBlob(t *testing.T) {
	c := startCoffer(t)
	prefix := c.freshPrefix()
	s := storeCfg(t, c.config(prefix))
	const size = 40<<20 + 12345
	want := randomBytes(1, size)
	n, err := s.Put(context.Background(), "large/one", io.MultiReader(bytes.NewReader(want[:3<<20]), bytes.NewReader(want[3<<20:])))
	if err != nil || n != size {
		t.Fatalf("Put = %d, %v; want %d bytes", n, err, size)
	}
	head, err := c.admin.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(prefix + "/large/one")})
	if err != nil {
		t.Fatal(err)
	}
	if etag := aws.ToString(head.ETag); !strings.HasSuffix(etag, `-6"`) {
		t.Fatalf("ETag %s: want a multipart upload of 6 parts", etag)
	}
	r, err := s.Open(context.Background(), "large/one")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != size {
		t.Fatalf("Size = %d, want %d", r.Size(), size)
	}
	rng := rand.New(rand.NewPCG(2, 3))
	for i := range 300 {
		n := rng.IntN(64 << 10)
		if i%50 == 0 {
			n = rng.IntN(3 << 20) // larger than the read-ahead window
		}
		off := rng.Int64N(size - int64(n))
		p := make([]byte, n)
		if _, err := r.ReadAt(p, off); err != nil {
			t.Fatalf("ReadAt(%d at %d): %v", n, off, err)
		}
		if !bytes.Equal(p, want[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d at %d): wrong bytes", n, off)
		}
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, size))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("whole read: %d bytes, %v; want the blob", len(got), err)
	}
}

// TestPartBoundaries puts blobs around the part size and checks how each was stored: one
// PutObject up to the part size exclusive, else a multipart upload of as many parts as needed.
func TestPartBoundaries(t *testing.T) {
	c := startCoffer(t)
	const part = 5 << 20
	prefix := c.freshPrefix()
	cfg := c.config(prefix)
	cfg.PartSize = part
	s := storeCfg(t, cfg)
	tests := []struct {
		name string
		size int
		etag string // suffix: the part count of a multipart upload, "" for one PutObject
	}{
		{"part-minus-1", part - 1, ""},
		{"part", part, `-1"`},
		{"part-plus-1", part + 1, `-2"`},
		{"two-parts", 2 * part, `-2"`},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := randomBytes(uint64(10+i), tc.size)
			if n, err := s.Put(context.Background(), tc.name, bytes.NewReader(want)); err != nil || n != int64(tc.size) {
				t.Fatalf("Put = %d, %v; want %d bytes", n, err, tc.size)
			}
			head, err := c.admin.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(prefix + "/" + tc.name)})
			if err != nil {
				t.Fatal(err)
			}
			etag := aws.ToString(head.ETag)
			if tc.etag == "" && strings.Contains(etag, "-") || !strings.HasSuffix(etag, tc.etag) {
				t.Fatalf("ETag %s, want one ending %q (\"\" for a single PutObject)", etag, tc.etag)
			}
			if got := blobtest.ReadAll(t, s, tc.name); !bytes.Equal(got, want) {
				t.Fatal("wrong bytes read back")
			}
		})
	}
}
