package boltmeta_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/boltmeta"
	"github.com/coffer/coffer/internal/meta/metatest"
)

func openDB(t testing.TB) *bolt.DB {
	t.Helper()
	db, err := boltmeta.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newStore(t testing.TB) *boltmeta.Store {
	t.Helper()
	s, err := boltmeta.New(openDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Store { return newStore(t) })
}

func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := boltmeta.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Run("private-file", func(t *testing.T) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("locked", func(t *testing.T) {
		// bbolt's flock conflicts between descriptors even within one process, so this stands
		// in for a second process; it must fail rather than wait for ever.
		db2, err := boltmeta.Open(path)
		if err == nil {
			db2.Close()
			t.Fatal("second Open of a locked file succeeded")
		}
	})
	t.Run("fsync-on", func(t *testing.T) {
		if db.NoSync {
			t.Fatal("Open disabled fsync")
		}
	})
}

func TestSharedDBAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := boltmeta.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// Another component (the KMS) keeps its own top-level buckets in the same file.
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("kms.keys"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := boltmeta.New(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(ctx, meta.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, meta.Object{Bucket: "b", Key: "k", Size: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBucket(ctx, "b"); !errors.Is(err, boltmeta.ErrClosed) {
		t.Fatalf("GetBucket after Close = %v, want ErrClosed", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = boltmeta.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err = boltmeta.New(db)
	if err != nil {
		t.Fatal(err)
	}
	if o, err := s.GetObject(ctx, "b", "k"); err != nil || o.Size != 1 {
		t.Fatalf("after reopen: %+v, %v", o, err)
	}
	bs, err := s.ListBuckets(ctx)
	if err != nil || len(bs) != 1 {
		t.Fatalf("ListBuckets after reopen = %+v, %v; want just b", bs, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte("kms.keys")).Get([]byte("k")); string(v) != "v" {
			return fmt.Errorf("kms.keys/k = %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The benchmarks measure durable (fsynced) operations:
// go test -run '^$' -bench Meta -cpu 1,2 ./internal/meta/boltmeta/
func BenchmarkMetaPut(b *testing.B) {
	for _, par := range []int{0, 8} {
		b.Run(fmt.Sprintf("goroutines=%d", max(par*runtime.GOMAXPROCS(0), 1)), func(b *testing.B) {
			s := benchStore(b, 0)
			var seq atomic.Int64
			put := func() {
				i := seq.Add(1)
				if _, err := s.PutObject(context.Background(), benchObject(int(i))); err != nil {
					b.Error(err)
				}
			}
			if par == 0 {
				for b.Loop() {
					put()
				}
				return
			}
			b.SetParallelism(par)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					put()
				}
			})
		})
	}
}

func BenchmarkMetaGet(b *testing.B) {
	const n = 10000
	s := benchStore(b, n)
	b.Run("serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i = (i + 7919) % n
			if _, err := s.GetObject(context.Background(), "b", benchObject(i).Key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				i = (i + 7919) % n
				if _, err := s.GetObject(context.Background(), "b", benchObject(i).Key); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkMetaList lists pages of 1000 from the middle of 10,000 keys.
func BenchmarkMetaList(b *testing.B) {
	const n = 10000
	s := benchStore(b, n)
	opt := meta.ListOptions{After: benchObject(n / 2).Key, Limit: 1000}
	list := func() error {
		objs, err := s.ListObjects(context.Background(), "b", opt)
		if err == nil && len(objs) != 1000 {
			err = fmt.Errorf("page of %d", len(objs))
		}
		return err
	}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if err := list(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := list(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func benchObject(i int) meta.Object {
	return meta.Object{Bucket: "b", Key: fmt.Sprintf("photos/2026/%08d.jpg", i), Size: 4096,
		ETag: "9b2cf535f27731c974343645a3985328", LastModified: time.Now(), Owner: "111122223333",
		Headers: map[string]string{"Content-Type": "image/jpeg"},
		Parts:   []meta.Part{{Blob: fmt.Sprintf("%02x/%016x", i%256, i), Size: 4096}}}
}

// benchStore returns a store with bucket "b" holding n objects.
func benchStore(b *testing.B, n int) *boltmeta.Store {
	s := newStore(b)
	if err := s.CreateBucket(context.Background(), meta.Bucket{Name: "b"}); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				if _, err := s.PutObject(context.Background(), benchObject(i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return s
}
