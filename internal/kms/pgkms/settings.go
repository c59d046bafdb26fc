package pgkms

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/pgdb"
)

// Names of the rows of kms_settings, as kmsbolt names its keys in kms.root.
const (
	settingCanary        = "canary"
	settingRecordFormat  = "record-format"        // kmsrec.EncodeFormat
	settingTrackingStart = "usage-tracking-start" // kmsrec.EncodeTrackingStart
)

// readSetting reads a setting; nil without one.
func readSetting(ctx context.Context, q pgdb.Queryer, name string) ([]byte, error) {
	var v []byte
	err := q.QueryRow(ctx, "SELECT value FROM kms_settings WHERE name = $1", name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

// insertSetting stores a setting unless there is one; reports whether it did.
func insertSetting(ctx context.Context, tx pgx.Tx, name string, v []byte) (bool, error) {
	tag, err := tx.Exec(ctx, "INSERT INTO kms_settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING", name, v)
	return err == nil && tag.RowsAffected() == 1, err
}

// Canary implements kms.Store.
func (s *Store) Canary(ctx context.Context) ([]byte, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	v, err := readSetting(ctx, s.db.Pool, settingCanary)
	if err != nil {
		return nil, fmt.Errorf("pgkms: read the canary: %w", err)
	}
	return v, nil
}

// PutCanary implements kms.Store.
func (s *Store) PutCanary(ctx context.Context, sealed []byte) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		stored, err := insertSetting(ctx, tx, settingCanary, sealed)
		if err == nil && !stored {
			err = kms.ErrStoreKeyExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("pgkms: store the canary: %w", err)
	}
	return nil
}
