package pgmeta

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/metarec"
	"github.com/coffer/coffer/internal/pgdb"
)

// uploadWhere selects one upload's row (or its parts) by $1 bucket, $2 key, $3 upload id.
const uploadWhere = "bucket = $1 AND key = $2 AND upload_id = $3"

func uploadArgs(bucket, key, id string) []any { return []any{[]byte(bucket), []byte(key), []byte(id)} }

// readUpload reads an upload's record, FOR UPDATE when lock is set (meta.ErrNoSuchUpload,
// wrapped together with meta.ErrNoSuchBucket when the bucket is gone, so callers can tell).
func readUpload(ctx context.Context, q pgdb.Queryer, bucket, key, id string, lock bool) (meta.Upload, error) {
	sql := "SELECT rec FROM s3_uploads WHERE " + uploadWhere
	if lock {
		sql += " FOR UPDATE"
	}
	var rec []byte
	err := q.QueryRow(ctx, sql, uploadArgs(bucket, key, id)...).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		switch ok, err := bucketExists(ctx, q, bucket); {
		case err != nil:
			return meta.Upload{}, err
		case ok:
			return meta.Upload{}, meta.ErrNoSuchUpload
		}
		return meta.Upload{}, fmt.Errorf("%w: %w", meta.ErrNoSuchUpload, meta.ErrNoSuchBucket)
	}
	if err != nil {
		return meta.Upload{}, err
	}
	return metarec.DecodeUpload(bucket, key, id, rec)
}

// queryParts returns the parts that a query of part records selects.
func queryParts(ctx context.Context, q pgdb.Queryer, sql string, args ...any) ([]meta.Part, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (meta.Part, error) {
		var rec []byte
		if err := r.Scan(&rec); err != nil {
			return meta.Part{}, err
		}
		return metarec.DecodePart(rec)
	})
}

// partsOf returns every part of an upload by ascending number.
func partsOf(ctx context.Context, q pgdb.Queryer, bucket, key, id string) ([]meta.Part, error) {
	return queryParts(ctx, q, "SELECT rec FROM s3_parts WHERE "+uploadWhere+" ORDER BY number", uploadArgs(bucket, key, id)...)
}

// CreateUpload implements meta.Store.
func (s *Store) CreateUpload(ctx context.Context, u meta.Upload) error {
	if err := checkKey(u.Key); err != nil {
		return err
	}
	if u.UploadID == "" {
		return fmt.Errorf("pgmeta: empty upload id not storable")
	}
	rec, err := metarec.EncodeUpload(u)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		if err := needBucket(ctx, tx, u.Bucket); err != nil {
			return err
		}
		// An id reused for the same key is the caller's bug: the primary key refuses it.
		_, err := tx.Exec(ctx, "INSERT INTO s3_uploads (bucket, key, upload_id, rec) VALUES ($1, $2, $3, $4)",
			append(uploadArgs(u.Bucket, u.Key, u.UploadID), rec)...)
		if pgdb.IsForeignKeyViolation(err) {
			return meta.ErrNoSuchBucket
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("pgmeta: create upload %q/%q: %w", u.Bucket, u.Key, err)
	}
	return nil
}

// GetUpload implements meta.Store.
func (s *Store) GetUpload(ctx context.Context, bucket, key, uploadID string) (meta.Upload, error) {
	if err := s.db.Check(ctx); err != nil {
		return meta.Upload{}, err
	}
	u, err := readUpload(ctx, s.db.Pool, bucket, key, uploadID, false)
	if err != nil {
		return meta.Upload{}, fmt.Errorf("pgmeta: get upload %q/%q: %w", bucket, key, err)
	}
	return u, nil
}

// PutPart implements meta.Store.
func (s *Store) PutPart(ctx context.Context, bucket, key, uploadID string, p meta.Part) (*meta.Part, error) {
	if p.Number < 0 || p.Number > math.MaxUint32 {
		return nil, fmt.Errorf("pgmeta: part number %d out of range", p.Number)
	}
	rec, err := metarec.EncodePart(p)
	if err != nil {
		return nil, err
	}
	var replaced *meta.Part
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		replaced = nil
		if _, err := readUpload(ctx, tx, bucket, key, uploadID, false); err != nil {
			return err
		}
		args := append(uploadArgs(bucket, key, uploadID), p.Number)
		var old []byte
		err := tx.QueryRow(ctx, "SELECT rec FROM s3_parts WHERE "+uploadWhere+" AND number = $4 FOR UPDATE", args...).Scan(&old)
		switch {
		case err == nil:
			r, err := metarec.DecodePart(old)
			if err != nil {
				return err
			}
			replaced = &r
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO s3_parts (bucket, key, upload_id, number, rec) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (bucket, key, upload_id, number) DO UPDATE SET rec = excluded.rec`, append(args, rec)...)
		if pgdb.IsForeignKeyViolation(err) {
			return meta.ErrNoSuchUpload
		}
		if err != nil {
			return err
		}
		return dropIntents(ctx, tx, [][]byte{[]byte(p.Blob)})
	})
	if err != nil {
		return nil, fmt.Errorf("pgmeta: put part %d of %q/%q: %w", p.Number, bucket, key, err)
	}
	return replaced, nil
}

// ListParts implements meta.Store.
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string, after, limit int) ([]meta.Part, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	if _, err := readUpload(ctx, s.db.Pool, bucket, key, uploadID, false); err != nil {
		return nil, fmt.Errorf("pgmeta: list parts of %q/%q: %w", bucket, key, err)
	}
	parts, err := queryParts(ctx, s.db.Pool, "SELECT rec FROM s3_parts WHERE "+uploadWhere+" AND number > $4 ORDER BY number"+pgdb.LimitClause(limit),
		append(uploadArgs(bucket, key, uploadID), after)...)
	if err != nil {
		return nil, fmt.Errorf("pgmeta: list parts of %q/%q: %w", bucket, key, err)
	}
	return parts, nil
}

// ListUploads implements meta.Store.
func (s *Store) ListUploads(ctx context.Context, bucket string, opt meta.ListOptions, afterUploadID string) ([]meta.Upload, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	if err := needBucket(ctx, s.db.Pool, bucket); err != nil {
		return nil, fmt.Errorf("pgmeta: list uploads %q: %w", bucket, err)
	}
	where, args := keyRange([]string{"bucket = $1"}, []any{[]byte(bucket)}, "key", opt.Prefix, "")
	args = append(args, []byte(opt.After), []byte(afterUploadID))
	where = append(where, fmt.Sprintf("(key, upload_id) > ($%d, $%d)", len(args)-1, len(args)))
	rows, err := s.db.Pool.Query(ctx, "SELECT key, upload_id, rec FROM s3_uploads WHERE "+strings.Join(where, " AND ")+
		" ORDER BY key, upload_id"+pgdb.LimitClause(opt.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("pgmeta: list uploads %q prefix %q: %w", bucket, opt.Prefix, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (meta.Upload, error) {
		var key, id, rec []byte
		if err := r.Scan(&key, &id, &rec); err != nil {
			return meta.Upload{}, err
		}
		return metarec.DecodeUpload(bucket, string(key), string(id), rec)
	})
	if err != nil {
		return nil, fmt.Errorf("pgmeta: list uploads %q prefix %q: %w", bucket, opt.Prefix, err)
	}
	return out, nil
}

// AbortUpload implements meta.Store.
func (s *Store) AbortUpload(ctx context.Context, bucket, key, uploadID string) ([]meta.Part, error) {
	var parts []meta.Part
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		if _, err := readUpload(ctx, tx, bucket, key, uploadID, true); err != nil {
			return err
		}
		var err error
		if parts, err = partsOf(ctx, tx, bucket, key, uploadID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM s3_uploads WHERE "+uploadWhere, uploadArgs(bucket, key, uploadID)...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgmeta: abort upload of %q/%q: %w", bucket, key, err)
	}
	return parts, nil
}

// CompleteUpload implements meta.Store.
func (s *Store) CompleteUpload(ctx context.Context, uploadID string, o meta.Object, cond ...meta.Condition) (*meta.Object, []meta.Part, error) {
	if err := checkKey(o.Key); err != nil {
		return nil, nil, err
	}
	rec, inline, err := metarec.EncodeObjectData(o)
	if err != nil {
		return nil, nil, err
	}
	var (
		replaced *meta.Object
		free     []meta.Part
	)
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		if _, err := readUpload(ctx, tx, o.Bucket, o.Key, uploadID, true); err != nil {
			return err
		}
		parts, err := partsOf(ctx, tx, o.Bucket, o.Key, uploadID)
		if err != nil {
			return err
		}
		if free, err = meta.SplitCompletion(parts, o); err != nil {
			return err
		}
		// Conditions are judged (in putObject) after the upload is deleted, in the same
		// transaction: a refusal rolls both back.
		if _, err := tx.Exec(ctx, "DELETE FROM s3_uploads WHERE "+uploadWhere, uploadArgs(o.Bucket, o.Key, uploadID)...); err != nil {
			return err
		}
		if replaced, err = putObject(ctx, tx, o, rec, inline, nil, cond); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pgmeta: complete upload of %q/%q: %w", o.Bucket, o.Key, err)
	}
	return replaced, free, nil
}
