package object_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/sse"
)

// countingBlobs is the filesystem blob store with a count of the bytes read from it.
type countingBlobs struct {
	blob.Store
	bytes, reads atomic.Int64
}

func (c *countingBlobs) Open(ctx context.Context, name string) (blob.Reader, error) {
	r, err := c.Store.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return countingReader{r, c}, nil
}

type countingReader struct {
	blob.Reader
	c *countingBlobs
}

func (r countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.Reader.ReadAt(p, off)
	r.c.bytes.Add(int64(n))
	r.c.reads.Add(1)
	return n, err
}

// TestRangeReadDecryptsOnlyItsPackages reads ranges of an encrypted 64 MiB object and checks
// how much ciphertext each fetched from the blob store: the header, the final package (which
// opening verifies; for a size that is a multiple of 64 KiB it holds no data, only its tag) and
// the packages the range overlaps, nothing else.
func TestRangeReadDecryptsOnlyItsPackages(t *testing.T) {
	const size = 64 << 20
	const header, pkg, finalPkg = sse.HeaderSize, sse.PackageSize + sse.TagSize, sse.TagSize
	dir := t.TempDir()
	db, ms, fs := realStores(t, dir)
	blobs := &countingBlobs{Store: fs}
	svc := object.New(object.Config{Meta: ms, Blobs: blobs, Keys: realKeys(t, db, dir)})
	ctx := context.Background()
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "range-bucket"}); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(rand.Uint32())
	}
	if _, err := svc.PutObject(ctx, object.PutInput{Bucket: "range-bucket", Key: "k", Body: bytes.NewReader(body), Size: size}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		off, n    int64
		wantBytes int64 // ciphertext read from the blob store
	}{
		{"1 byte at 63 MiB", 63 << 20, 1, header + finalPkg + pkg},
		{"1 byte at 0", 0, 1, header + finalPkg + pkg},
		{"2 bytes across a package boundary", 3*sse.PackageSize - 1, 2, header + finalPkg + 2*pkg},
		{"last byte", size - 1, 1, header + finalPkg + pkg},
		{"whole object", 0, size, header + finalPkg + size/sse.PackageSize*pkg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rd, err := svc.OpenObject(ctx, "range-bucket", "k", secret.Key{})
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			blobs.bytes.Store(0)
			var got bytes.Buffer
			if _, err := rd.WriteRange(&got, tt.off, tt.n); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), body[tt.off:tt.off+tt.n]) {
				t.Fatal("WriteRange returned wrong bytes")
			}
			if b := blobs.bytes.Load(); b != tt.wantBytes {
				t.Fatalf("read %d bytes of ciphertext, want %d", b, tt.wantBytes)
			}
		})
	}
	t.Run("ReadAt of 1 byte at 63 MiB", func(t *testing.T) {
		_, rd, err := svc.OpenObject(ctx, "range-bucket", "k", secret.Key{})
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		blobs.bytes.Store(0)
		p := make([]byte, 1)
		if _, err := rd.ReadAt(p, 63<<20); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if p[0] != body[63<<20] {
			t.Fatal("ReadAt returned the wrong byte")
		}
		if b, want := blobs.bytes.Load(), int64(header+finalPkg+pkg); b != want {
			t.Fatalf("read %d bytes of ciphertext, want %d", b, want)
		}
	})
}
