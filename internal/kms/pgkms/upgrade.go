package pgkms

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
	"github.com/coffer/coffer/internal/pgdb"
)

// errIdentity is an upgrade function that added, removed or renamed a record.
var errIdentity = errors.New("pgkms: upgrade: records were added, removed or renamed")

// UpgradeRecords implements kms.Store. Every readable record is in memory for the length of
// the call, which reads them only until the store has been brought to the format once. fn
// may be called more than once (see the package documentation).
func (s *Store) UpgradeRecords(ctx context.Context, format int, fn func(*kms.Records) (bool, error)) error {
	if err := s.db.Check(ctx); err != nil {
		return err
	}
	if done, err := upgradedTo(ctx, s.db.Pool, format); err != nil || done {
		return err
	}
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		if done, err := upgradedTo(ctx, tx, format); err != nil || done {
			return err
		}
		recs, err := readRecords(ctx, tx)
		if err != nil {
			return err
		}
		ids := identities(recs)
		write, err := fn(recs)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO kms_settings (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`, settingRecordFormat, kmsrec.EncodeFormat(format))
		if err != nil || !write {
			return err
		}
		if !slices.Equal(identities(recs), ids) {
			return errIdentity
		}
		return writeRecords(ctx, tx, recs)
	})
	if err != nil {
		return fmt.Errorf("pgkms: upgrade records to format %d: %w", format, err)
	}
	return nil
}

// upgradedTo reports whether UpgradeRecords brought the store to format or a later one.
func upgradedTo(ctx context.Context, q pgdb.Queryer, format int) (bool, error) {
	v, err := readSetting(ctx, q, settingRecordFormat)
	stored, ok := kmsrec.DecodeFormat(v)
	return ok && stored >= format, err
}

// readRecords reads every key, alias and grant record that can be read; the others are left
// as they are.
func readRecords(ctx context.Context, tx pgx.Tx) (*kms.Records, error) {
	var recs kms.Records
	rows, err := tx.Query(ctx, "SELECT id, rec FROM kms_keys ORDER BY id")
	if err != nil {
		return nil, err
	}
	keys, err := pgx.CollectRows(rows, pgx.RowToStructByPos[keyRow])
	if err != nil {
		return nil, err
	}
	for _, r := range keys {
		if k, err := kmsrec.DecodeKey(string(r.ID), r.Rec); err == nil {
			recs.Keys = append(recs.Keys, k)
		}
	}
	type aliasRow struct{ Account, Name, Rec []byte }
	if rows, err = tx.Query(ctx, "SELECT account, name, rec FROM kms_aliases ORDER BY account, name"); err != nil {
		return nil, err
	}
	aliases, err := pgx.CollectRows(rows, pgx.RowToStructByPos[aliasRow])
	if err != nil {
		return nil, err
	}
	for _, r := range aliases {
		if a, err := kmsrec.DecodeAlias(string(r.Account), string(r.Name), r.Rec); err == nil {
			recs.Aliases = append(recs.Aliases, a)
		}
	}
	if rows, err = tx.Query(ctx, "SELECT key_id, grant_id, rec FROM kms_grants ORDER BY key_id, grant_id"); err != nil {
		return nil, err
	}
	grants, err := pgx.CollectRows(rows, pgx.RowToStructByPos[grantRow])
	if err != nil {
		return nil, err
	}
	for _, r := range grants {
		if g, err := kmsrec.DecodeGrant(string(r.KeyID), string(r.GrantID), r.Rec); err == nil {
			recs.Grants = append(recs.Grants, g)
		}
	}
	return &recs, nil
}

// identities lists what names each record of recs, in order, so that an upgrade can be
// checked to have left them alone.
func identities(recs *kms.Records) []string {
	var out []string
	for _, k := range recs.Keys {
		out = append(out, "key\x00"+k.ID+"\x00"+k.Account)
	}
	for _, a := range recs.Aliases {
		out = append(out, "alias\x00"+a.Account+"\x00"+a.Name)
	}
	for _, g := range recs.Grants {
		out = append(out, "grant\x00"+g.KeyID+"\x00"+g.GrantID)
	}
	return out
}

// writeRecords writes every record of recs back under its identity.
func writeRecords(ctx context.Context, tx pgx.Tx, recs *kms.Records) error {
	var b pgx.Batch
	for _, k := range recs.Keys {
		rec, err := kmsrec.Encode(k)
		if err != nil {
			return err
		}
		b.Queue("UPDATE kms_keys SET rec = $2 WHERE id = $1", []byte(k.ID), rec)
	}
	for _, a := range recs.Aliases {
		rec, err := kmsrec.Encode(a)
		if err != nil {
			return err
		}
		b.Queue("UPDATE kms_aliases SET key_id = $3, rec = $4 WHERE account = $1 AND name = $2",
			[]byte(a.Account), []byte(a.Name), []byte(a.KeyID), rec)
	}
	for _, g := range recs.Grants {
		rec, err := kmsrec.Encode(g)
		if err != nil {
			return err
		}
		b.Queue("UPDATE kms_grants SET rec = $3 WHERE key_id = $1 AND grant_id = $2", []byte(g.KeyID), []byte(g.GrantID), rec)
	}
	return tx.SendBatch(ctx, &b).Close()
}
