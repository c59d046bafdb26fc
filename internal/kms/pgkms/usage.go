package pgkms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
	"github.com/coffer/coffer/internal/pgdb"
)

// putUsage stores a use ($2 its time in Unix nanoseconds, $3 its record) of key $1 if the key
// exists and the use is later than the one stored: last writer by the use's time, whichever
// node flushes last.
const putUsage = `INSERT INTO kms_usage (key_id, used_ns, rec)
	SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM kms_keys WHERE id = $1)
	ON CONFLICT (key_id) DO UPDATE SET used_ns = EXCLUDED.used_ns, rec = EXCLUDED.rec
	WHERE kms_usage.used_ns < EXCLUDED.used_ns`

// PutLastUsage implements kms.UsageStore, in one transaction whose statements go in one
// round trip. Keys are written in id order, so that nodes flushing at once queue on their
// rows in one order instead of deadlocking.
func (s *Store) PutLastUsage(ctx context.Context, uses map[string]kms.KeyUsage) error {
	ids := make([]string, 0, len(uses))
	recs := make(map[string][]byte, len(uses))
	for id, u := range uses {
		rec, err := kmsrec.Encode(u)
		if err != nil {
			return err
		}
		ids, recs[id] = append(ids, id), rec
	}
	slices.Sort(ids)
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		for _, id := range ids {
			b.Queue(putUsage, []byte(id), pgdb.UnixNanos(uses[id].Time), recs[id])
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return fmt.Errorf("pgkms: store key usage: %w", err)
	}
	return nil
}

// LastUsage implements kms.UsageStore. A damaged stored use reads as none.
func (s *Store) LastUsage(ctx context.Context, id string) (kms.KeyUsage, bool, error) {
	if err := s.db.Check(ctx); err != nil {
		return kms.KeyUsage{}, false, err
	}
	var rec []byte
	err := s.db.Pool.QueryRow(ctx, "SELECT rec FROM kms_usage WHERE key_id = $1", []byte(id)).Scan(&rec)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return kms.KeyUsage{}, false, nil
	case err != nil:
		return kms.KeyUsage{}, false, fmt.Errorf("pgkms: read usage of key %s: %w", id, err)
	}
	u, ok := kmsrec.DecodeUsage(rec)
	return u, ok, nil
}

// TrackingStart implements kms.UsageStore. Of nodes starting at once, the first to commit
// sets it and the others read theirs.
func (s *Store) TrackingStart(ctx context.Context, now time.Time) (time.Time, error) {
	if err := s.db.Check(ctx); err != nil {
		return time.Time{}, err
	}
	v, err := readSetting(ctx, s.db.Pool, settingTrackingStart)
	if err == nil && v == nil {
		err = s.db.Write(ctx, func(tx pgx.Tx) error {
			if _, err := insertSetting(ctx, tx, settingTrackingStart, kmsrec.EncodeTrackingStart(now)); err != nil {
				return err
			}
			v, err = readSetting(ctx, tx, settingTrackingStart)
			return err
		})
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("pgkms: usage tracking start: %w", err)
	}
	return kmsrec.DecodeTrackingStart(v)
}
