package pgmeta

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/metarec"
	"github.com/coffer/coffer/internal/pgdb"
)

// readObject reads an object with its inline bytes (meta.ErrNoSuchBucket, meta.ErrNoSuchKey).
// One statement answers both questions: the bucket row is there or not, and the object beside
// it.
func readObject(ctx context.Context, q pgdb.Queryer, bucket, key string) (meta.Object, error) {
	var rec, inline []byte
	err := q.QueryRow(ctx, `SELECT o.rec, o.inline FROM s3_buckets b
		LEFT JOIN s3_objects o ON o.bucket = b.name AND o.key = $2 WHERE b.name = $1`,
		[]byte(bucket), []byte(key)).Scan(&rec, &inline)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return meta.Object{}, meta.ErrNoSuchBucket
	case err != nil:
		return meta.Object{}, err
	case rec == nil || key == "":
		return meta.Object{}, meta.ErrNoSuchKey
	}
	return decodeObject(bucket, key, rec, inline)
}

// readObjectLocked is readObject FOR UPDATE, for a write that will replace or delete the row.
// FOR UPDATE cannot lock the nullable side of an outer join, so the bucket is asked apart.
func readObjectLocked(ctx context.Context, q pgdb.Queryer, bucket, key string) (meta.Object, error) {
	var rec, inline []byte
	err := q.QueryRow(ctx, "SELECT rec, inline FROM s3_objects WHERE bucket = $1 AND key = $2 FOR UPDATE",
		[]byte(bucket), []byte(key)).Scan(&rec, &inline)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := needBucket(ctx, q, bucket); err != nil {
			return meta.Object{}, err
		}
		return meta.Object{}, meta.ErrNoSuchKey
	}
	if err != nil {
		return meta.Object{}, err
	}
	return decodeObject(bucket, key, rec, inline)
}

// decodeObject decodes an object row; inline is NULL (nil) when the object has no inline
// bytes, and then its parts keep none.
func decodeObject(bucket, key string, rec, inline []byte) (meta.Object, error) {
	if inline == nil {
		return metarec.DecodeObject(bucket, key, rec)
	}
	return metarec.DecodeObjectData(bucket, key, rec, inline)
}

// current returns the object a write to key would replace, locked, without its inline bytes
// (nil if none): what conditions judge and what a replacing write returns. One statement also
// asks whether the bucket is there (meta.ErrNoSuchBucket), saving a round trip on every write.
func current(ctx context.Context, tx pgx.Tx, bucket, key string) (*meta.Object, error) {
	var (
		exists bool
		rec    []byte
	)
	err := tx.QueryRow(ctx, `WITH cur AS (SELECT rec FROM s3_objects WHERE bucket = $1 AND key = $2 FOR UPDATE)
		SELECT EXISTS (SELECT 1 FROM s3_buckets WHERE name = $1), (SELECT rec FROM cur)`,
		[]byte(bucket), []byte(key)).Scan(&exists, &rec)
	switch {
	case err != nil:
		return nil, err
	case !exists:
		return nil, meta.ErrNoSuchBucket
	case rec == nil:
		return nil, nil
	}
	o, err := metarec.DecodeObject(bucket, key, rec)
	return &o, err
}

// checkConditions runs cond on cur.
func checkConditions(cur *meta.Object, cond []meta.Condition) error {
	for _, c := range cond {
		if err := c(cur); err != nil {
			return err
		}
	}
	return nil
}

// putObject stores o (record rec, inline bytes inline) in place of whatever object has its
// key and drops the intents of blobs, and returns the replaced object. The writes go in one
// round trip (a pgx batch).
func putObject(ctx context.Context, tx pgx.Tx, o meta.Object, rec, inline []byte, blobs [][]byte, cond []meta.Condition) (*meta.Object, error) {
	replaced, err := current(ctx, tx, o.Bucket, o.Key)
	if err != nil {
		return nil, err
	}
	if err := checkConditions(replaced, cond); err != nil {
		return nil, err
	}
	if len(inline) == 0 {
		inline = nil
	}
	var batch pgx.Batch
	batch.Queue(`INSERT INTO s3_objects (bucket, key, rec, inline) VALUES ($1, $2, $3, $4)
		ON CONFLICT (bucket, key) DO UPDATE SET rec = excluded.rec, inline = excluded.inline`,
		[]byte(o.Bucket), []byte(o.Key), rec, inline)
	if len(blobs) > 0 {
		batch.Queue("DELETE FROM s3_intents WHERE blob = ANY($1)", blobs)
	}
	err = tx.SendBatch(ctx, &batch).Close()
	if pgdb.IsForeignKeyViolation(err) {
		return nil, meta.ErrNoSuchBucket
	}
	return replaced, err
}

// checkKey rejects keys no store keeps.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("pgmeta: empty object key not storable")
	}
	return nil
}

// PutObject implements meta.Store.
func (s *Store) PutObject(ctx context.Context, o meta.Object, cond ...meta.Condition) (*meta.Object, error) {
	if err := checkKey(o.Key); err != nil {
		return nil, err
	}
	rec, inline, err := metarec.EncodeObjectData(o)
	if err != nil {
		return nil, err
	}
	var blobs [][]byte
	for _, p := range o.Parts {
		if p.Blob != "" {
			blobs = append(blobs, []byte(p.Blob))
		}
	}
	var replaced *meta.Object
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		var err error
		replaced, err = putObject(ctx, tx, o, rec, inline, blobs, cond)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgmeta: put object %q/%q: %w", o.Bucket, o.Key, err)
	}
	return replaced, nil
}

// GetObject implements meta.Store.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (meta.Object, error) {
	if err := s.db.Check(ctx); err != nil {
		return meta.Object{}, err
	}
	o, err := readObject(ctx, s.db.Pool, bucket, key)
	if err != nil {
		return meta.Object{}, fmt.Errorf("pgmeta: get object %q/%q: %w", bucket, key, err)
	}
	return o, nil
}

// DeleteObject implements meta.Store.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string, cond ...meta.Condition) (meta.Object, error) {
	var o meta.Object
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		var err error
		if o, err = readObjectLocked(ctx, tx, bucket, key); err != nil {
			return err
		}
		if err := checkConditions(&o, cond); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM s3_objects WHERE bucket = $1 AND key = $2", []byte(bucket), []byte(key))
		return err
	})
	if err != nil {
		return meta.Object{}, fmt.Errorf("pgmeta: delete object %q/%q: %w", bucket, key, err)
	}
	return o, nil
}

// ReplaceEncryption implements meta.Store. Only the record is rewritten; inline bytes stay.
func (s *Store) ReplaceEncryption(ctx context.Context, read meta.Object, enc *meta.Encryption) error {
	if enc == nil {
		return fmt.Errorf("pgmeta: replace encryption of %q/%q: no record given", read.Bucket, read.Key)
	}
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		cur, err := readObjectLocked(ctx, tx, read.Bucket, read.Key)
		if err != nil {
			return err
		}
		if !meta.SameWrite(cur, read) {
			return meta.ErrObjectChanged
		}
		cur.Encryption = enc
		rec, err := metarec.EncodeObject(cur)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE s3_objects SET rec = $3 WHERE bucket = $1 AND key = $2", []byte(read.Bucket), []byte(read.Key), rec)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgmeta: replace encryption of %q/%q: %w", read.Bucket, read.Key, err)
	}
	return nil
}

// keyRange adds to where (and args) the conditions of keys in column col with prefix and,
// unless after is "", greater than after. A prefix's keys are those from the prefix itself up
// to, not including, its successor (see prefixEnd), which the primary key's index serves.
func keyRange(where []string, args []any, col, prefix, after string) ([]string, []any) {
	if prefix != "" {
		args = append(args, []byte(prefix))
		where = append(where, fmt.Sprintf("%s >= $%d", col, len(args)))
		if end := prefixEnd(prefix); end != nil {
			args = append(args, end)
			where = append(where, fmt.Sprintf("%s < $%d", col, len(args)))
		}
	}
	if after != "" {
		args = append(args, []byte(after))
		where = append(where, fmt.Sprintf("%s > $%d", col, len(args)))
	}
	return where, args
}

// prefixEnd returns the least byte string greater than every string that starts with prefix,
// or nil if there is none (prefix is all 0xff bytes).
func prefixEnd(prefix string) []byte {
	end := []byte(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// ListObjects implements meta.Store. A page is one index range scan, so skipping a common
// prefix by passing After = prefix + "\xff" costs what any other page costs.
func (s *Store) ListObjects(ctx context.Context, bucket string, opt meta.ListOptions) ([]meta.Object, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	where, args := keyRange([]string{"bucket = $1"}, []any{[]byte(bucket)}, "key", opt.Prefix, opt.After)
	rows, err := s.db.Pool.Query(ctx, "SELECT key, rec FROM s3_objects WHERE "+strings.Join(where, " AND ")+
		" ORDER BY key"+pgdb.LimitClause(opt.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("pgmeta: list objects %q prefix %q: %w", bucket, opt.Prefix, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (meta.Object, error) {
		var key, rec []byte
		if err := r.Scan(&key, &rec); err != nil {
			return meta.Object{}, err
		}
		return metarec.DecodeObject(bucket, string(key), rec)
	})
	if err == nil && len(out) == 0 {
		err = needBucket(ctx, s.db.Pool, bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("pgmeta: list objects %q prefix %q: %w", bucket, opt.Prefix, err)
	}
	return out, nil
}
