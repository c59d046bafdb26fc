package pgkms

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
	"github.com/coffer/coffer/internal/pgdb"
)

// PutAlias implements kms.Store.
func (s *Store) PutAlias(ctx context.Context, a kms.Alias, create bool) error {
	rec, err := kmsrec.Encode(a)
	if err != nil {
		return err
	}
	if err := s.db.Write(ctx, func(tx pgx.Tx) error { return putAlias(ctx, tx, a, rec, create) }); err != nil {
		return fmt.Errorf("pgkms: put alias %s: %w", a.Name, err)
	}
	return nil
}

// putAlias creates or retargets alias a, whose record is rec, as PutAlias says.
func putAlias(ctx context.Context, tx pgx.Tx, a kms.Alias, rec []byte, create bool) error {
	present, err := pgdb.Exists(ctx, tx, "SELECT 1 FROM kms_aliases WHERE account = $1 AND name = $2 FOR UPDATE", []byte(a.Account), []byte(a.Name))
	switch {
	case err != nil:
		return err
	case create && present:
		return kms.ErrStoreAliasExists
	case !create && !present:
		return kms.ErrStoreNoSuchAlias
	}
	switch target, err := keyExists(ctx, tx, a.KeyID); {
	case err != nil:
		return err
	case !target:
		return kms.ErrStoreAliasNoTarget
	}
	if !create {
		_, err := tx.Exec(ctx, "UPDATE kms_aliases SET key_id = $3, rec = $4 WHERE account = $1 AND name = $2",
			[]byte(a.Account), []byte(a.Name), []byte(a.KeyID), rec)
		return err
	}
	tag, err := tx.Exec(ctx, "INSERT INTO kms_aliases (account, name, key_id, rec) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
		[]byte(a.Account), []byte(a.Name), []byte(a.KeyID), rec)
	if err == nil && tag.RowsAffected() == 0 {
		err = kms.ErrStoreAliasExists
	}
	return err
}

// GetAlias implements kms.Store.
func (s *Store) GetAlias(ctx context.Context, account, name string) (kms.Alias, error) {
	if err := s.db.Check(ctx); err != nil {
		return kms.Alias{}, err
	}
	var rec []byte
	err := s.db.Pool.QueryRow(ctx, "SELECT rec FROM kms_aliases WHERE account = $1 AND name = $2", []byte(account), []byte(name)).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		err = kms.ErrStoreNoSuchAlias
	}
	if err != nil {
		return kms.Alias{}, fmt.Errorf("pgkms: get alias %s: %w", name, err)
	}
	return kmsrec.DecodeAlias(account, name, rec)
}

// DeleteAlias implements kms.Store.
func (s *Store) DeleteAlias(ctx context.Context, account, name string) error {
	err := s.writeOne(ctx, kms.ErrStoreNoSuchAlias, "DELETE FROM kms_aliases WHERE account = $1 AND name = $2", []byte(account), []byte(name))
	if err != nil {
		return fmt.Errorf("pgkms: delete alias %s: %w", name, err)
	}
	return nil
}

// ListAliases implements kms.Store.
func (s *Store) ListAliases(ctx context.Context, account, after string, limit int) ([]kms.Alias, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.Pool.Query(ctx, "SELECT name, rec FROM kms_aliases WHERE account = $1 AND name > $2 ORDER BY name"+pgdb.LimitClause(limit),
		[]byte(account), []byte(after))
	if err != nil {
		return nil, fmt.Errorf("pgkms: list aliases of %s: %w", account, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kms.Alias, error) {
		var name, rec []byte
		if err := r.Scan(&name, &rec); err != nil {
			return kms.Alias{}, err
		}
		a, err := kmsrec.DecodeAlias(account, string(name), rec)
		if err != nil {
			// Damaged: listed with its name only, so that it hides no other alias.
			return kms.Alias{Account: account, Name: string(name)}, nil
		}
		return a, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgkms: list aliases of %s: %w", account, err)
	}
	return out, nil
}
