// Package pgkms is a kms.Store (and kms.UsageStore) in PostgreSQL (or a PostgreSQL-compatible
// distributed SQL database), shared by every Coffer node that opens it.
//
// Every method that writes is one SERIALIZABLE transaction (pgdb.Serializable): it reads the
// rows it judges (is the id taken, does the target key exist, how many customer managed keys
// the account holds), decides and writes, and the database either commits it as if no other
// node ran at the same time or fails it, after which it runs again from the start. That is
// what keeps the key quota, alias names and the canary exact across nodes, never lets an
// UpdateKey lose another node's update, and never leaves an alias or grant naming a deleted
// key. A row about to be rewritten is read FOR UPDATE only so that racing writers queue
// instead of failing and retrying. Because a transaction may run more than once, the
// functions UpdateKey and UpgradeRecords are given may be called more than once; only the
// last call's result is stored. Reads of one statement run on their own; ScanKeys and
// ScanGrants read in pages of their own statements, so a scan does not hold a transaction
// open while its function runs. A write is visible to every node as soon as it returns.
//
// Records are package kmsrec's encodings, the bytes kmsbolt keeps: package kms MACs them
// above the store, which keeps them as opaque bytes, so records move between the stores
// unchanged. See package pgdb for the features relied on and schema.go for the tables.
package pgkms

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
	"github.com/coffer/coffer/internal/pgdb"
)

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("pgkms: store closed")

var (
	_ kms.Store      = (*Store)(nil)
	_ kms.UsageStore = (*Store)(nil)
)

// scanPage is how many records ScanKeys and ScanGrants read per statement.
const scanPage = 256

// Store is a PostgreSQL kms.Store. It is safe for concurrent use, and any number of Stores,
// in one process or many, may share one database.
type Store struct {
	db *pgdb.Handle
}

// New returns a store in the database pool connects to, first bringing its schema up to date
// (pgdb.Migrate: safe when several nodes start at once). The pool stays the caller's: Close on
// the store does not close it.
func New(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	db, err := pgdb.NewHandle(ctx, pool, component, migrations, ErrClosed)
	if err != nil {
		return nil, fmt.Errorf("pgkms: %w", err)
	}
	return &Store{db: db}, nil
}

// Close marks the store closed; later calls fail with ErrClosed. It does not close the pool.
func (s *Store) Close() error {
	s.db.Close()
	return nil
}

// writeOne runs sql, a statement that changes one row, as a write transaction of its own;
// none when it changed no row.
func (s *Store) writeOne(ctx context.Context, none error, sql string, args ...any) error {
	return s.db.Write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err == nil && tag.RowsAffected() == 0 {
			err = none
		}
		return err
	})
}

// keyExists reports whether key id is stored.
func keyExists(ctx context.Context, q pgdb.Queryer, id string) (bool, error) {
	return pgdb.Exists(ctx, q, "SELECT 1 FROM kms_keys WHERE id = $1", []byte(id))
}

// readKey reads key id, FOR UPDATE when lock is set (kms.ErrStoreNoSuchKey,
// kms.ErrStoreDamaged).
func readKey(ctx context.Context, q pgdb.Queryer, id string, lock bool) (*kms.Key, error) {
	sql := "SELECT rec FROM kms_keys WHERE id = $1"
	if lock {
		sql += " FOR UPDATE"
	}
	var rec []byte
	err := q.QueryRow(ctx, sql, []byte(id)).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, kms.ErrStoreNoSuchKey
	}
	if err != nil {
		return nil, err
	}
	return kmsrec.DecodeKey(id, rec)
}

// CreateKey implements kms.Store.
func (s *Store) CreateKey(ctx context.Context, k *kms.Key, alias *kms.Alias, quota int) error {
	rec, err := kmsrec.Encode(k)
	if err != nil {
		return err
	}
	var aliasRec []byte
	if alias != nil {
		if aliasRec, err = kmsrec.Encode(*alias); err != nil {
			return err
		}
	}
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		switch taken, err := keyExists(ctx, tx, k.ID); {
		case err != nil:
			return err
		case taken:
			return kms.ErrStoreKeyExists
		}
		if counted(k) {
			if err := addKeyCount(ctx, tx, k.Account, quota); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, "INSERT INTO kms_keys (id, account, rec) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			[]byte(k.ID), []byte(k.Account), rec)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return kms.ErrStoreKeyExists
		}
		if alias == nil {
			return nil
		}
		return putAlias(ctx, tx, *alias, aliasRec, true)
	})
	if err != nil {
		return fmt.Errorf("pgkms: create key %s: %w", k.ID, err)
	}
	return nil
}

// GetKey implements kms.Store.
func (s *Store) GetKey(ctx context.Context, id string) (*kms.Key, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	k, err := readKey(ctx, s.db.Pool, id, false)
	if err != nil {
		return nil, fmt.Errorf("pgkms: get key: %w", err)
	}
	return k, nil
}

// UpdateKey implements kms.Store. fn may be called more than once (see the package
// documentation); the key returned is the one the last call made and the store kept.
func (s *Store) UpdateKey(ctx context.Context, id string, fn func(*kms.Key) error) (*kms.Key, error) {
	var k *kms.Key
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		var err error
		if k, err = readKey(ctx, tx, id, true); err != nil {
			return err
		}
		account := k.Account
		if err := fn(k); err != nil {
			return err
		}
		k.ID, k.Account = id, account // the identity of a key never changes
		rec, err := kmsrec.Encode(k)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE kms_keys SET rec = $2 WHERE id = $1", []byte(id), rec)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgkms: update key: %w", err)
	}
	return k, nil
}

// DeleteKey implements kms.Store.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		k, err := readKey(ctx, tx, id, true)
		if err != nil {
			return err
		}
		for _, sql := range []string{
			"DELETE FROM kms_grants WHERE key_id = $1",
			"DELETE FROM kms_aliases WHERE key_id = $1",
			"DELETE FROM kms_usage WHERE key_id = $1",
			"DELETE FROM kms_keys WHERE id = $1",
		} {
			if _, err := tx.Exec(ctx, sql, []byte(id)); err != nil {
				return err
			}
		}
		if counted(k) {
			return dropKeyCount(ctx, tx, k.Account)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgkms: delete key: %w", err)
	}
	return nil
}

// ListKeys implements kms.Store.
func (s *Store) ListKeys(ctx context.Context, account, after string, limit int) ([]*kms.Key, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.Pool.Query(ctx, "SELECT id, rec FROM kms_keys WHERE account = $1 AND id > $2 ORDER BY id"+pgdb.LimitClause(limit),
		[]byte(account), []byte(after))
	if err != nil {
		return nil, fmt.Errorf("pgkms: list keys of %s: %w", account, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*kms.Key, error) {
		var id, rec []byte
		if err := r.Scan(&id, &rec); err != nil {
			return nil, err
		}
		k, err := kmsrec.DecodeKey(string(id), rec)
		if err != nil || k.Account != account {
			// The record, or its account column naming another account's key, is damaged:
			// listed with its identity only, so that it hides no other key.
			return &kms.Key{ID: string(id), Account: account}, nil
		}
		return k, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgkms: list keys of %s: %w", account, err)
	}
	return out, nil
}

// ScanKeys implements kms.Store. It reads the keys in pages of scanPage, each page one
// statement, so fn runs with no statement or transaction open.
func (s *Store) ScanKeys(ctx context.Context, fn func(*kms.Key) bool) error {
	var bad []error
	fail := func(err error) error { return errors.Join(append([]error{err}, bad...)...) }
	after := []byte{}
	for {
		if err := s.db.Check(ctx); err != nil {
			return fail(err)
		}
		rows, err := s.db.Pool.Query(ctx, "SELECT id, rec FROM kms_keys WHERE id > $1 ORDER BY id LIMIT $2", after, scanPage)
		if err != nil {
			return fail(fmt.Errorf("pgkms: scan keys: %w", err))
		}
		page, err := pgx.CollectRows(rows, pgx.RowToStructByPos[keyRow])
		if err != nil {
			return fail(fmt.Errorf("pgkms: scan keys: %w", err))
		}
		for _, r := range page {
			k, err := kmsrec.DecodeKey(string(r.ID), r.Rec)
			if err != nil {
				// One damaged record must not hide the others from the scheduler.
				bad = append(bad, err)
				continue
			}
			if !fn(k) {
				return errors.Join(bad...)
			}
		}
		if len(page) < scanPage {
			return errors.Join(bad...)
		}
		after = page[len(page)-1].ID
	}
}

// keyRow is a key record with its id.
type keyRow struct{ ID, Rec []byte }
