package fsblob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/blobtest"
	"github.com/coffer/coffer/internal/blob/fsblob"
)

func newStore(t testing.TB) *fsblob.Store {
	t.Helper()
	s, err := fsblob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
}

func TestNewRemovesTempFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := fsblob.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), "kept", bytes.NewReader([]byte("k"))); err != nil {
		t.Fatal(err)
	}
	leftovers := []string{"put-123", "other"}
	for _, n := range leftovers {
		if err := os.WriteFile(filepath.Join(dir, "tmp", n), []byte("torn"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fsblob.New(dir); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil || len(ents) != 0 {
		t.Fatalf("tmp after New: %d entries, err %v; want empty", len(ents), err)
	}
	var names []string
	if err := s.List(context.Background(), "", func(n string, _ int64) error { names = append(names, n); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "kept" {
		t.Fatalf("List after reopen = %q, want [kept]", names)
	}
}

func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	s, err := fsblob.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), "m/x", bytes.NewReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "blobs", "m~", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("blob file mode %v, want 0600", fi.Mode().Perm())
	}
}

// BenchmarkBlobPut measures durable Puts; run with -cpu to vary parallelism:
// go test -run '^$' -bench BlobPut -cpu 1,8 ./internal/blob/fsblob/
func BenchmarkBlobPut(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			s := newStore(b)
			body := bytes.Repeat([]byte{0x5a}, size)
			var seq atomic.Int64
			b.SetBytes(int64(size))
			b.SetParallelism(8) // 8 goroutines per GOMAXPROCS
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					name := fmt.Sprintf("%02x/%d", i%256, i)
					if _, err := s.Put(context.Background(), name, bytes.NewReader(body)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// errReader fails after yielding a few bytes.
type errReader struct{ n int }

func (r *errReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		r.n--
		return copy(p, "abc"), nil
	}
	return 0, errors.New("broken body")
}

func TestFailedPutLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	s, err := fsblob.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		r    io.Reader
	}{
		{"reader-error", context.Background(), &errReader{n: 3}},
		{"canceled", ctx, bytes.NewReader([]byte("x"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Put(tc.ctx, "a/b", tc.r); err == nil {
				t.Fatal("Put succeeded")
			}
			ents, err := os.ReadDir(filepath.Join(dir, "tmp"))
			if err != nil || len(ents) != 0 {
				t.Fatalf("tmp after failed Put: %d entries (err %v), want none", len(ents), err)
			}
		})
	}
}
