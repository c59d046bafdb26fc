// Package pgiam is an iam.Store in PostgreSQL (or a PostgreSQL-compatible distributed SQL
// database), shared by every Coffer node that opens it.
//
// Every method that writes is one SERIALIZABLE transaction (pgdb.Serializable): it reads the
// rows it judges (does the user exist, has it keys, how many), decides and writes, and the
// database either commits it as if no other node ran at the same time or fails it, after
// which it runs again from the start. That is what keeps names unique, the access key quota
// and the delete conflicts exact across nodes; a row about to be rewritten is read FOR
// UPDATE only so that racing writers queue instead of failing and retrying. Reads of one
// statement run on their own; reads of several run in one READ ONLY transaction at
// REPEATABLE READ, so they see one committed state. A write is visible to every node as soon
// as it returns. Sealed secrets are stored as the bytes the caller sealed. See package pgdb
// for the features relied on and schema.go for the tables.
package pgiam

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/iamrec"
	"github.com/coffer/coffer/internal/pgdb"
)

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("pgiam: store closed")

var _ iam.Store = (*Store)(nil)

// Store is a PostgreSQL iam.Store. It is safe for concurrent use, and any number of Stores,
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
		return nil, fmt.Errorf("pgiam: %w", err)
	}
	return &Store{db: db}, nil
}

// Close marks the store closed; later calls fail with ErrClosed. It does not close the pool.
func (s *Store) Close() error {
	s.db.Close()
	return nil
}

// nameKey is the key of a user, role or managed policy name: unique ignoring case.
func nameKey(name string) []byte { return []byte(strings.ToLower(name)) }

// readRecord reads the record the query selects into v; iam.ErrNoSuchEntity without one.
func readRecord[T iamrec.Record](ctx context.Context, q pgdb.Queryer, v *T, sql string, args ...any) error {
	var rec []byte
	err := q.QueryRow(ctx, sql, args...).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return iam.ErrNoSuchEntity
	}
	if err != nil {
		return err
	}
	return iamrec.Decode(rec, v)
}

// readRecords decodes the record in the first column of each row the query selects.
func readRecords[T iamrec.Record](ctx context.Context, q pgdb.Queryer, sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) {
		var rec []byte
		var v T
		if err := r.Scan(&rec); err != nil {
			return v, err
		}
		return v, iamrec.Decode(rec, &v)
	})
}

// insertNew inserts a row of a table whose key the caller's name takes; iam.ErrEntityExists
// when the key is taken.
func insertNew(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	tag, err := tx.Exec(ctx, sql+" ON CONFLICT DO NOTHING", args...)
	if err == nil && tag.RowsAffected() == 0 {
		err = iam.ErrEntityExists
	}
	return err
}

// needAccount returns iam.ErrNoSuchEntity unless the account is there.
func needAccount(ctx context.Context, q pgdb.Queryer, id string) error {
	ok, err := pgdb.Exists(ctx, q, "SELECT 1 FROM iam_accounts WHERE id = $1", []byte(id))
	if err == nil && !ok {
		err = fmt.Errorf("account %s: %w", id, iam.ErrNoSuchEntity)
	}
	return err
}

// CreateAccount implements iam.Store.
func (s *Store) CreateAccount(ctx context.Context, a iam.Account) error {
	rec, err := iamrec.Encode(a)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		return insertNew(ctx, tx, "INSERT INTO iam_accounts (id, rec) VALUES ($1, $2)", []byte(a.ID), rec)
	})
	if err != nil {
		return fmt.Errorf("pgiam: create account %s: %w", a.ID, err)
	}
	return nil
}

// GetAccount implements iam.Store.
func (s *Store) GetAccount(ctx context.Context, id string) (iam.Account, error) {
	var a iam.Account
	if err := s.db.Check(ctx); err != nil {
		return a, err
	}
	if err := readRecord(ctx, s.db.Pool, &a, "SELECT rec FROM iam_accounts WHERE id = $1", []byte(id)); err != nil {
		return iam.Account{}, fmt.Errorf("pgiam: get account %s: %w", id, err)
	}
	return a, nil
}

// ListAccounts implements iam.Store.
func (s *Store) ListAccounts(ctx context.Context) ([]iam.Account, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	out, err := readRecords[iam.Account](ctx, s.db.Pool, "SELECT rec FROM iam_accounts ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("pgiam: list accounts: %w", err)
	}
	return out, nil
}

// SettleDefaultAccount makes proposed the default account of every node on this database,
// unless one was settled before: it returns the settled account and whether it is the
// proposal. Nodes starting together propose different accounts; the first insert wins and
// the others adopt it. The account itself is created by iam.New, as on one node.
func (s *Store) SettleDefaultAccount(ctx context.Context, proposed iam.Account) (iam.Account, bool, error) {
	if err := s.db.Check(ctx); err != nil {
		return iam.Account{}, false, err
	}
	var got iam.Account
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO iam_default_account (id, display_name) VALUES ($1, $2) ON CONFLICT (one) DO NOTHING`,
			proposed.ID, proposed.DisplayName); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id, display_name FROM iam_default_account`).Scan(&got.ID, &got.DisplayName)
	})
	if err != nil {
		return iam.Account{}, false, fmt.Errorf("pgiam: settle the default account: %w", err)
	}
	return got, got.ID == proposed.ID, nil
}
