package pgkms

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
)

// PutGrant implements kms.Store. A grant stored again under its id replaces the one there.
func (s *Store) PutGrant(ctx context.Context, g kms.Grant) error {
	rec, err := kmsrec.Encode(g)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		switch ok, err := keyExists(ctx, tx, g.KeyID); {
		case err != nil:
			return err
		case !ok:
			return kms.ErrStoreNoSuchKey
		}
		_, err := tx.Exec(ctx, `INSERT INTO kms_grants (key_id, grant_id, rec) VALUES ($1, $2, $3)
			ON CONFLICT (key_id, grant_id) DO UPDATE SET rec = EXCLUDED.rec`, []byte(g.KeyID), []byte(g.GrantID), rec)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgkms: put grant %s of key %s: %w", g.GrantID, g.KeyID, err)
	}
	return nil
}

// DeleteGrant implements kms.Store.
func (s *Store) DeleteGrant(ctx context.Context, keyID, grantID string) error {
	err := s.writeOne(ctx, kms.ErrStoreNoSuchGrant, "DELETE FROM kms_grants WHERE key_id = $1 AND grant_id = $2", []byte(keyID), []byte(grantID))
	if err != nil {
		return fmt.Errorf("pgkms: delete grant %s of key %s: %w", grantID, keyID, err)
	}
	return nil
}

// grantRow is a grant record with its identity.
type grantRow struct{ KeyID, GrantID, Rec []byte }

// ListGrants implements kms.Store.
func (s *Store) ListGrants(ctx context.Context, keyID string) ([]kms.Grant, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.Pool.Query(ctx, "SELECT key_id, grant_id, rec FROM kms_grants WHERE key_id = $1 ORDER BY grant_id", []byte(keyID))
	if err != nil {
		return nil, fmt.Errorf("pgkms: list grants of key %s: %w", keyID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kms.Grant, error) {
		g, err := pgx.RowToStructByPos[grantRow](r)
		if err != nil {
			return kms.Grant{}, err
		}
		return kmsrec.DecodeGrant(string(g.KeyID), string(g.GrantID), g.Rec)
	})
	if err != nil {
		return nil, fmt.Errorf("pgkms: list grants of key %s: %w", keyID, err)
	}
	return out, nil
}

// ScanGrants implements kms.Store. It reads the grants in pages of scanPage, each page one
// statement, so fn runs with no statement or transaction open.
func (s *Store) ScanGrants(ctx context.Context, fn func(kms.Grant) bool) error {
	var bad []error
	fail := func(err error) error { return errors.Join(append([]error{err}, bad...)...) }
	after := grantRow{KeyID: []byte{}, GrantID: []byte{}}
	for {
		if err := s.db.Check(ctx); err != nil {
			return fail(err)
		}
		rows, err := s.db.Pool.Query(ctx, `SELECT key_id, grant_id, rec FROM kms_grants
			WHERE (key_id, grant_id) > ($1, $2) ORDER BY key_id, grant_id LIMIT $3`, after.KeyID, after.GrantID, scanPage)
		if err != nil {
			return fail(fmt.Errorf("pgkms: scan grants: %w", err))
		}
		page, err := pgx.CollectRows(rows, pgx.RowToStructByPos[grantRow])
		if err != nil {
			return fail(fmt.Errorf("pgkms: scan grants: %w", err))
		}
		for _, r := range page {
			g, err := kmsrec.DecodeGrant(string(r.KeyID), string(r.GrantID), r.Rec)
			if err != nil {
				bad = append(bad, err)
				continue
			}
			if !fn(g) {
				return errors.Join(bad...)
			}
		}
		if len(page) < scanPage {
			return errors.Join(bad...)
		}
		after = page[len(page)-1]
	}
}
