package object_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/coffer/coffer/internal/blob/fsblob"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/boltmeta"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/server/objectkeys"
	bolt "go.etcd.io/bbolt"
)

// BenchmarkPutObject measures PUTs of blob-sized objects (64 KiB, above the inline limit)
// through the service on the embedded stores, 8 at a time: the path the write intents add a
// group-committed metadata write to.
func BenchmarkPutObject(b *testing.B) {
	dir := b.TempDir()
	db, ms, blobs := realStores(b, dir)
	svc := object.New(object.Config{Meta: ms, Blobs: blobs, Keys: realKeys(b, db, dir)})
	ctx := context.Background()
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), 64<<10)
	var n atomic.Int64
	b.SetBytes(int64(len(body)))
	b.SetParallelism(4) // 8 writers on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprint("k", n.Add(1))
			_, err := svc.PutObject(ctx, object.PutInput{Bucket: "bench", Key: key, Body: bytes.NewReader(body), Size: int64(len(body))})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// realStores opens the embedded metadata and blob stores in dir; the database closes when tb
// ends.
func realStores(tb testing.TB, dir string) (*bolt.DB, *boltmeta.Store, *fsblob.Store) {
	tb.Helper()
	db, err := boltmeta.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	ms, err := boltmeta.New(db)
	if err != nil {
		tb.Fatal(err)
	}
	blobs, err := fsblob.New(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	return db, ms, blobs
}

// realKeys is the key service a server wires: the KMS on the same database.
func realKeys(b testing.TB, db *bolt.DB, dir string) object.Keys {
	st, err := kmsbolt.New(db)
	if err != nil {
		b.Fatal(err)
	}
	root, err := kms.OpenFileRootKey(filepath.Join(dir, "root.key"))
	if err != nil {
		b.Fatal(err)
	}
	svc, err := kms.New(kms.Config{Store: st, Root: root, Region: "us-east-1"})
	if err != nil {
		b.Fatal(err)
	}
	return objectkeys.New(svc, nil)
}
