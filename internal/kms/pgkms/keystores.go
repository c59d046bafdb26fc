package pgkms

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
)

// PutKeyStore implements kms.Store.
func (s *Store) PutKeyStore(ctx context.Context, ks kms.KeyStore, create bool) error {
	rec, err := kmsrec.Encode(ks)
	if err != nil {
		return err
	}
	sql, absent := "UPDATE kms_keystores SET rec = $2 WHERE id = $1", kms.ErrStoreNoSuchKeyStore
	if create {
		sql, absent = "INSERT INTO kms_keystores (id, rec) VALUES ($1, $2) ON CONFLICT DO NOTHING", kms.ErrStoreKeyExists
	}
	err = s.writeOne(ctx, absent, sql, []byte(ks.ID), rec)
	if err != nil {
		return fmt.Errorf("pgkms: put custom key store %s: %w", ks.ID, err)
	}
	return nil
}

// GetKeyStore implements kms.Store.
func (s *Store) GetKeyStore(ctx context.Context, id string) (kms.KeyStore, error) {
	if err := s.db.Check(ctx); err != nil {
		return kms.KeyStore{}, err
	}
	var rec []byte
	err := s.db.Pool.QueryRow(ctx, "SELECT rec FROM kms_keystores WHERE id = $1", []byte(id)).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		err = kms.ErrStoreNoSuchKeyStore
	}
	if err != nil {
		return kms.KeyStore{}, fmt.Errorf("pgkms: get custom key store %s: %w", id, err)
	}
	return kmsrec.DecodeKeyStore(id, rec)
}

// DeleteKeyStore implements kms.Store.
func (s *Store) DeleteKeyStore(ctx context.Context, id string) error {
	err := s.writeOne(ctx, kms.ErrStoreNoSuchKeyStore, "DELETE FROM kms_keystores WHERE id = $1", []byte(id))
	if err != nil {
		return fmt.Errorf("pgkms: delete custom key store %s: %w", id, err)
	}
	return nil
}

// ListKeyStores implements kms.Store.
func (s *Store) ListKeyStores(ctx context.Context) ([]kms.KeyStore, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.Pool.Query(ctx, "SELECT id, rec FROM kms_keystores ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("pgkms: list custom key stores: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kms.KeyStore, error) {
		var id, rec []byte
		if err := r.Scan(&id, &rec); err != nil {
			return kms.KeyStore{}, err
		}
		return kmsrec.DecodeKeyStore(string(id), rec)
	})
	if err != nil {
		return nil, fmt.Errorf("pgkms: list custom key stores: %w", err)
	}
	return out, nil
}
