// Package boltmeta is a meta.Store in an embedded go.etcd.io/bbolt database.
//
// Layout (all top-level names start with "s3." so other users of the same file, such as the
// KMS, can keep their own top-level buckets beside it):
//
//	s3.buckets/                   one nested bucket per S3 bucket, named by the bucket name
//	  <bucket>/
//	    rec                       the bucket record
//	    o/  <object key>          object record
//	    u/  <upload key>/         one nested bucket per upload (see uploadKey)
//	          u                   upload record
//	          p<uint32 BE>        part record, by part number
//	s3.intents/  <blob name>      an intent: a blob being written (see meta.Intent)
//
// Records are a version byte followed by JSON (see codec.go). Every method is one transaction;
// concurrent writes are grouped into shared commits (see committer), and each commit is fsynced
// unless the caller opened the DB with NoSync.
package boltmeta

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/metarec"
)

var (
	topBuckets = []byte("s3.buckets")
	keyRec     = []byte("rec")
	keyObjects = []byte("o")
	keyUploads = []byte("u")
	// keyPolicy holds the bucket policy document as it is, beside the record: every request
	// reads it, and JSON-decoding kilobytes of escaped policy text would cost more than
	// evaluating it.
	keyPolicy = []byte("policy")
)

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("boltmeta: store closed")

var _ meta.Store = (*Store)(nil)

// Store is a bbolt meta.Store. It is safe for concurrent use.
type Store struct {
	db     *bolt.DB
	commit committer
	closed atomic.Bool
}

// Open opens (creating if needed, mode 0600) the bbolt file at path with the options Coffer
// relies on: commits are fsynced, and a second process that finds the file locked gets an error
// after a second instead of waiting for ever. The caller closes the DB after closing every
// store that uses it.
func Open(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      time.Second,
		FreelistType: bolt.FreelistMapType, // faster than the array freelist on large files
	})
	if err != nil {
		return nil, fmt.Errorf("boltmeta: open %s: %w", path, err)
	}
	return db, nil
}

// New returns a store kept in db, creating its top-level buckets if needed (a server opens db
// with package boltfile first, which refuses a file whose buckets are not all there). The DB stays the
// caller's: Close on the store does not close it.
func New(db *bolt.DB) (*Store, error) {
	if db.IsReadOnly() {
		return nil, fmt.Errorf("boltmeta: database is read-only")
	}
	if err := boltfile.CreateBuckets(db, TopBuckets()); err != nil {
		return nil, fmt.Errorf("boltmeta: init: %w", err)
	}
	return &Store{db: db, commit: committer{db: db}}, nil
}

// Close marks the store closed; later calls fail with ErrClosed. It does not close the DB.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// view runs fn in a read transaction, with a memory fault (a damaged page) turned into an
// error in whatever goroutine calls it.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.commit.guard(func() error { return s.db.View(fn) })
}

// update runs fn in a (possibly shared) write transaction.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.commit.update(fn)
}

// bucketOf returns the nested bucket of the named S3 bucket, or nil.
func bucketOf(tx *bolt.Tx, name string) *bolt.Bucket {
	if name == "" {
		return nil
	}
	return tx.Bucket(topBuckets).Bucket([]byte(name))
}

// CreateBucket implements meta.Store.
func (s *Store) CreateBucket(ctx context.Context, b meta.Bucket) error {
	if b.Name == "" {
		return fmt.Errorf("boltmeta: create bucket: empty name")
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		bk, err := tx.Bucket(topBuckets).CreateBucket([]byte(b.Name))
		if errors.Is(err, berrors.ErrBucketExists) {
			return meta.ErrBucketExists
		}
		if err != nil {
			return err
		}
		if _, err := bk.CreateBucket(keyObjects); err != nil {
			return err
		}
		if _, err := bk.CreateBucket(keyUploads); err != nil {
			return err
		}
		return writeBucket(bk, b)
	})
	if err != nil {
		return fmt.Errorf("boltmeta: create bucket %q: %w", b.Name, err)
	}
	return nil
}

// readBucket reads a bucket's record and policy.
func readBucket(bk *bolt.Bucket, name string) (meta.Bucket, error) {
	b, err := metarec.DecodeBucket(name, bk.Get(keyRec))
	if err != nil {
		return meta.Bucket{}, err
	}
	if p := bk.Get(keyPolicy); p != nil {
		b.Policy = string(p)
	}
	return b, nil
}

// writeBucket stores a bucket's record and policy.
func writeBucket(bk *bolt.Bucket, b meta.Bucket) error {
	rec, err := metarec.EncodeBucket(b)
	if err != nil {
		return err
	}
	if err := bk.Put(keyRec, rec); err != nil {
		return err
	}
	if b.Policy == "" {
		return bk.Delete(keyPolicy)
	}
	return bk.Put(keyPolicy, []byte(b.Policy))
}

// GetBucket implements meta.Store.
func (s *Store) GetBucket(ctx context.Context, name string) (meta.Bucket, error) {
	var b meta.Bucket
	err := s.view(ctx, func(tx *bolt.Tx) error {
		bk := bucketOf(tx, name)
		if bk == nil {
			return meta.ErrNoSuchBucket
		}
		var err error
		b, err = readBucket(bk, name)
		return err
	})
	if err != nil {
		return meta.Bucket{}, fmt.Errorf("boltmeta: get bucket %q: %w", name, err)
	}
	return b, nil
}

// UpdateBucket implements meta.Store.
func (s *Store) UpdateBucket(ctx context.Context, name string, fn func(*meta.Bucket) error) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		bk := bucketOf(tx, name)
		if bk == nil {
			return meta.ErrNoSuchBucket
		}
		old, err := readBucket(bk, name)
		if err != nil {
			return err
		}
		b := old
		if err := fn(&b); err != nil {
			return refuse(err)
		}
		b.Name, b.Owner, b.Created = old.Name, old.Owner, old.Created
		return writeBucket(bk, b)
	})
	if err != nil {
		return fmt.Errorf("boltmeta: update bucket %q: %w", name, err)
	}
	return nil
}

// DeleteBucket implements meta.Store.
func (s *Store) DeleteBucket(ctx context.Context, name string) ([]meta.Part, error) {
	var parts []meta.Part
	err := s.update(ctx, func(tx *bolt.Tx) error {
		parts = nil // fn may run again if a shared commit is retried
		bk := bucketOf(tx, name)
		if bk == nil {
			return meta.ErrNoSuchBucket
		}
		if k, _ := bk.Bucket(keyObjects).Cursor().First(); k != nil {
			return meta.ErrBucketNotEmpty
		}
		ups := bk.Bucket(keyUploads)
		err := ups.ForEachBucket(func(k []byte) error {
			p, err := partsOf(ups.Bucket(k))
			parts = append(parts, p...)
			return err
		})
		if err != nil {
			return err
		}
		return tx.Bucket(topBuckets).DeleteBucket([]byte(name))
	})
	if err != nil {
		return nil, fmt.Errorf("boltmeta: delete bucket %q: %w", name, err)
	}
	return parts, nil
}

// ListBuckets implements meta.Store.
func (s *Store) ListBuckets(ctx context.Context) ([]meta.Bucket, error) {
	var out []meta.Bucket
	err := s.view(ctx, func(tx *bolt.Tx) error {
		top := tx.Bucket(topBuckets)
		return top.ForEachBucket(func(k []byte) error {
			b, err := readBucket(top.Bucket(k), string(k))
			if err != nil {
				return err
			}
			out = append(out, b)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltmeta: list buckets: %w", err)
	}
	return out, nil
}
