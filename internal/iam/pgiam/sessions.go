package pgiam

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/iamrec"
	"github.com/coffer/coffer/internal/pgdb"
)

// PutSession implements iam.Store. Its expiry is kept beside the record, for
// DeleteExpiredSessions.
func (s *Store) PutSession(ctx context.Context, ss iam.Session) error {
	rec, err := iamrec.Encode(ss)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		return insertNew(ctx, tx, "INSERT INTO iam_sessions (access_key_id, expires_ns, rec) VALUES ($1, $2, $3)",
			[]byte(ss.AccessKeyID), pgdb.UnixNanos(ss.Expires), rec)
	})
	if err != nil {
		return fmt.Errorf("pgiam: put session %s: %w", ss.AccessKeyID, err)
	}
	return nil
}

// GetSession implements iam.Store.
func (s *Store) GetSession(ctx context.Context, accessKeyID string) (iam.Session, error) {
	var ss iam.Session
	if err := s.db.Check(ctx); err != nil {
		return ss, err
	}
	err := readRecord(ctx, s.db.Pool, &ss, "SELECT rec FROM iam_sessions WHERE access_key_id = $1", []byte(accessKeyID))
	if err != nil {
		return iam.Session{}, fmt.Errorf("pgiam: get session %s: %w", accessKeyID, err)
	}
	return ss, nil
}

// DeleteExpiredSessions implements iam.Store.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM iam_sessions WHERE expires_ns < $1", pgdb.UnixNanos(now))
		n = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgiam: delete expired sessions: %w", err)
	}
	return n, nil
}
