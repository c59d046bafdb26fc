package pgmeta

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/pgdb"
)

// RecordIntent implements meta.Store. Created is kept in Unix nanoseconds, as boltmeta keeps
// it, so ListIntents compares exactly what it was given.
func (s *Store) RecordIntent(ctx context.Context, in meta.Intent) error {
	kind, err := StoredIntentKind(in.Kind)
	if err != nil {
		return fmt.Errorf("pgmeta: record intent %s: %w", in.Blob, err)
	}
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO s3_intents (blob, bucket, key, upload_id, created_ns, kind) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (blob) DO UPDATE SET bucket = excluded.bucket, key = excluded.key,
				upload_id = excluded.upload_id, created_ns = excluded.created_ns, kind = excluded.kind`,
			[]byte(in.Blob), []byte(in.Bucket), []byte(in.Key), []byte(in.UploadID), in.Created.UnixNano(), kind)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgmeta: record intent %s: %w", in.Blob, err)
	}
	return nil
}

// DropIntent implements meta.Store.
func (s *Store) DropIntent(ctx context.Context, blob string) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error { return dropIntents(ctx, tx, [][]byte{[]byte(blob)}) })
	if err != nil {
		return fmt.Errorf("pgmeta: drop intent %s: %w", blob, err)
	}
	return nil
}

// dropIntents removes the intents of blobs, if there are any; "" names no blob.
func dropIntents(ctx context.Context, tx pgx.Tx, blobs [][]byte) error {
	var named [][]byte
	for _, b := range blobs {
		if len(b) > 0 {
			named = append(named, b)
		}
	}
	if len(named) == 0 {
		return nil // most writes: inline data
	}
	_, err := tx.Exec(ctx, "DELETE FROM s3_intents WHERE blob = ANY($1)", named)
	return err
}

// ListIntents implements meta.Store.
func (s *Store) ListIntents(ctx context.Context, before time.Time, limit int) ([]meta.Intent, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT blob, bucket, key, upload_id, created_ns, kind FROM s3_intents
		WHERE created_ns < $1 ORDER BY blob`+pgdb.LimitClause(limit), before.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("pgmeta: list intents: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (meta.Intent, error) {
		var blob, bucket, key, id []byte
		var created int64
		var kind int16
		if err := r.Scan(&blob, &bucket, &key, &id, &created, &kind); err != nil {
			return meta.Intent{}, err
		}
		k, err := IntentKind(kind)
		if err != nil {
			return meta.Intent{}, fmt.Errorf("intent %q: %w", blob, err)
		}
		return meta.Intent{Blob: string(blob), Bucket: string(bucket), Key: string(key), UploadID: string(id),
			Created: time.Unix(0, created).UTC(), Kind: k}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgmeta: list intents: %w", err)
	}
	return out, nil
}

// The stored kinds of intents (column kind): fixed here, not by meta's Go values, so that
// meta may renumber its constants without changing stored data.
const (
	kindWrite int16 = 0
	kindFreed int16 = 1
)

// StoredIntentKind is the value of column s3_intents.kind for k, for tools that copy the
// table's rows (internal/migrate).
func StoredIntentKind(k meta.IntentKind) (int16, error) {
	switch k {
	case meta.IntentWrite:
		return kindWrite, nil
	case meta.IntentFreed:
		return kindFreed, nil
	}
	return 0, fmt.Errorf("intent of kind %d", k)
}

// IntentKind is the kind stored as k in column s3_intents.kind.
func IntentKind(k int16) (meta.IntentKind, error) {
	switch k {
	case kindWrite:
		return meta.IntentWrite, nil
	case kindFreed:
		return meta.IntentFreed, nil
	}
	return 0, fmt.Errorf("unknown intent kind %d", k)
}
