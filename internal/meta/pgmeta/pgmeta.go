// Package pgmeta is a meta.Store in PostgreSQL (or a PostgreSQL-compatible distributed SQL
// database), shared by every Coffer node that opens it.
//
// Every method that writes is one SERIALIZABLE transaction (pgdb.Serializable): it reads the
// rows it judges, runs the caller's conditions on them and writes, and the database either
// commits it as if no other node ran at the same time or fails it, after which it runs again
// from the start. That is what keeps conditional writes, multipart completion and concurrent
// PUTs to one key atomic across nodes; the rows a write will replace are read FOR UPDATE only
// so that racing writers queue instead of failing and retrying. Reads are single statements,
// each of which sees one committed state. See package pgdb for the features relied on and
// schema.go for the tables.
package pgmeta

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/metarec"
	"github.com/coffer/coffer/internal/pgdb"
)

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("pgmeta: store closed")

var _ meta.Store = (*Store)(nil)

// Store is a PostgreSQL meta.Store. It is safe for concurrent use, and any number of Stores,
// in one process or many, may share one database.
type Store struct {
	db *pgdb.Handle
}

// New returns a store in the database pool connects to, first bringing its schema up to date
// (pgdb.Migrate: safe when several nodes start at once). The pool stays the caller's: Close on
// the store does not close it.
func New(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	db, err := pgdb.NewHandle(ctx, pool, component, migrations, ErrClosed)
	if err != nil {
		return nil, fmt.Errorf("pgmeta: %w", err)
	}
	return &Store{db: db}, nil
}

// Close marks the store closed; later calls fail with ErrClosed. It does not close the pool.
func (s *Store) Close() error {
	s.db.Close()
	return nil
}

// bucketExists reports whether the bucket is there.
func bucketExists(ctx context.Context, q pgdb.Queryer, name string) (bool, error) {
	return pgdb.Exists(ctx, q, "SELECT 1 FROM s3_buckets WHERE name = $1", []byte(name))
}

// needBucket returns meta.ErrNoSuchBucket unless the bucket is there.
func needBucket(ctx context.Context, q pgdb.Queryer, name string) error {
	ok, err := bucketExists(ctx, q, name)
	if err == nil && !ok {
		err = meta.ErrNoSuchBucket
	}
	return err
}

// CreateBucket implements meta.Store.
func (s *Store) CreateBucket(ctx context.Context, b meta.Bucket) error {
	if b.Name == "" {
		return fmt.Errorf("pgmeta: create bucket: empty name")
	}
	rec, err := metarec.EncodeBucket(b)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "INSERT INTO s3_buckets (name, rec, policy) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
			[]byte(b.Name), rec, policyValue(b.Policy))
		if err == nil && tag.RowsAffected() == 0 {
			err = meta.ErrBucketExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("pgmeta: create bucket %q: %w", b.Name, err)
	}
	return nil
}

// policyValue is the stored form of a bucket policy: NULL for none.
func policyValue(p string) []byte {
	if p == "" {
		return nil
	}
	return []byte(p)
}

// decodeBucket decodes a bucket row.
func decodeBucket(name string, rec, policy []byte) (meta.Bucket, error) {
	b, err := metarec.DecodeBucket(name, rec)
	if err != nil {
		return meta.Bucket{}, err
	}
	b.Policy = string(policy)
	return b, nil
}

// readBucket reads a bucket, FOR UPDATE when lock is set (meta.ErrNoSuchBucket).
func readBucket(ctx context.Context, q pgdb.Queryer, name string, lock bool) (meta.Bucket, error) {
	sql := "SELECT rec, policy FROM s3_buckets WHERE name = $1"
	if lock {
		sql += " FOR UPDATE"
	}
	var rec, policy []byte
	err := q.QueryRow(ctx, sql, []byte(name)).Scan(&rec, &policy)
	if errors.Is(err, pgx.ErrNoRows) {
		return meta.Bucket{}, meta.ErrNoSuchBucket
	}
	if err != nil {
		return meta.Bucket{}, err
	}
	return decodeBucket(name, rec, policy)
}

// GetBucket implements meta.Store.
func (s *Store) GetBucket(ctx context.Context, name string) (meta.Bucket, error) {
	if err := s.db.Check(ctx); err != nil {
		return meta.Bucket{}, err
	}
	b, err := readBucket(ctx, s.db.Pool, name, false)
	if err != nil {
		return meta.Bucket{}, fmt.Errorf("pgmeta: get bucket %q: %w", name, err)
	}
	return b, nil
}

// UpdateBucket implements meta.Store.
func (s *Store) UpdateBucket(ctx context.Context, name string, fn func(*meta.Bucket) error) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		old, err := readBucket(ctx, tx, name, true)
		if err != nil {
			return err
		}
		b := old
		if err := fn(&b); err != nil {
			return err
		}
		b.Name, b.Owner, b.Created = old.Name, old.Owner, old.Created
		rec, err := metarec.EncodeBucket(b)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE s3_buckets SET rec = $2, policy = $3 WHERE name = $1", []byte(name), rec, policyValue(b.Policy))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgmeta: update bucket %q: %w", name, err)
	}
	return nil
}

// DeleteBucket implements meta.Store. The bucket's uploads and parts go with it (ON DELETE
// CASCADE), after their parts were read for the caller to free.
func (s *Store) DeleteBucket(ctx context.Context, name string) ([]meta.Part, error) {
	var parts []meta.Part
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		parts = nil
		if _, err := readBucket(ctx, tx, name, true); err != nil {
			return err
		}
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM s3_objects WHERE bucket = $1 LIMIT 1", []byte(name)).Scan(&one)
		if err == nil {
			return meta.ErrBucketNotEmpty
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if parts, err = queryParts(ctx, tx, "SELECT rec FROM s3_parts WHERE bucket = $1", []byte(name)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM s3_buckets WHERE name = $1", []byte(name))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgmeta: delete bucket %q: %w", name, err)
	}
	return parts, nil
}

// ListBuckets implements meta.Store.
func (s *Store) ListBuckets(ctx context.Context) ([]meta.Bucket, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.Pool.Query(ctx, "SELECT name, rec, policy FROM s3_buckets ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("pgmeta: list buckets: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (meta.Bucket, error) {
		var name, rec, policy []byte
		if err := r.Scan(&name, &rec, &policy); err != nil {
			return meta.Bucket{}, err
		}
		return decodeBucket(string(name), rec, policy)
	})
	if err != nil {
		return nil, fmt.Errorf("pgmeta: list buckets: %w", err)
	}
	return out, nil
}
