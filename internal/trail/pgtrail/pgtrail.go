// Package pgtrail is a trail.Store in PostgreSQL (or a PostgreSQL-compatible distributed SQL
// database), shared by every Coffer node that opens it.
//
// Create, Update and Delete are each one SERIALIZABLE transaction (pgdb.Serializable), run
// again after a serialization failure: two nodes creating one trail, or the last trail an
// account may have, at once get one success and one ErrTrailExists or ErrTooManyTrails, and
// Update's function always sees the trail as the last committed update left it, so updates
// from several nodes (a delivery advancing its cursor, StopLogging) never lose one another.
// Update reads the trail FOR UPDATE so that racing updates queue instead of failing and
// retrying. Reads are single statements, each of which sees one committed state. See package
// pgdb for the features relied on.
package pgtrail

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer/coffer/internal/pgdb"
	"github.com/coffer/coffer/internal/trail"
	"github.com/coffer/coffer/internal/trail/trailrec"
)

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("pgtrail: store closed")

var _ trail.Store = (*Store)(nil)

// Store is a PostgreSQL trail.Store. It is safe for concurrent use, and any number of Stores,
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
		return nil, fmt.Errorf("pgtrail: %w", err)
	}
	return &Store{db: db}, nil
}

// Close marks the store closed; later calls fail with ErrClosed. It does not close the pool.
func (s *Store) Close() error {
	s.db.Close()
	return nil
}

// readTrail reads a trail, FOR UPDATE when lock is set (trail.ErrTrailNotFound).
func readTrail(ctx context.Context, q pgdb.Queryer, account, name string, lock bool) (trail.Trail, error) {
	sql := "SELECT rec FROM trail_trails WHERE account = $1 AND name = $2"
	if lock {
		sql += " FOR UPDATE"
	}
	var rec []byte
	err := q.QueryRow(ctx, sql, []byte(account), []byte(name)).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return trail.Trail{}, trail.ErrTrailNotFound
	}
	if err != nil {
		return trail.Trail{}, err
	}
	return trailrec.Decode(rec)
}

// Create implements trail.Store.
func (s *Store) Create(ctx context.Context, t trail.Trail, limit int) error {
	rec, err := trailrec.Encode(&t)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		var n int
		var taken bool
		err := tx.QueryRow(ctx, "SELECT count(*), coalesce(bool_or(name = $2), false) FROM trail_trails WHERE account = $1",
			[]byte(t.Account), []byte(t.Name)).Scan(&n, &taken)
		switch {
		case err != nil:
			return err
		case taken:
			return trail.ErrTrailExists
		case n >= limit:
			return trail.ErrTooManyTrails
		}
		tag, err := tx.Exec(ctx, "INSERT INTO trail_trails (account, name, rec) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			[]byte(t.Account), []byte(t.Name), rec)
		if err == nil && tag.RowsAffected() == 0 {
			err = trail.ErrTrailExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("pgtrail: create trail %s of %s: %w", t.Name, t.Account, err)
	}
	return nil
}

// Get implements trail.Store.
func (s *Store) Get(ctx context.Context, account, name string) (trail.Trail, error) {
	if err := s.db.Check(ctx); err != nil {
		return trail.Trail{}, err
	}
	t, err := readTrail(ctx, s.db.Pool, account, name, false)
	if err != nil {
		return trail.Trail{}, fmt.Errorf("pgtrail: get trail %s of %s: %w", name, account, err)
	}
	return t, nil
}

// List implements trail.Store.
func (s *Store) List(ctx context.Context, account string) ([]trail.Trail, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	sql, args := "SELECT rec FROM trail_trails ORDER BY account, name", []any{}
	if account != "" {
		sql, args = "SELECT rec FROM trail_trails WHERE account = $1 ORDER BY name", []any{[]byte(account)}
	}
	rows, err := s.db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("pgtrail: list trails: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (trail.Trail, error) {
		var rec []byte
		if err := r.Scan(&rec); err != nil {
			return trail.Trail{}, err
		}
		return trailrec.Decode(rec)
	})
	if err != nil {
		return nil, fmt.Errorf("pgtrail: list trails: %w", err)
	}
	return out, nil
}

// Update implements trail.Store. fn may run more than once (after a serialization failure),
// each time on the trail as then committed; the result of the run that committed is returned.
func (s *Store) Update(ctx context.Context, account, name string, fn func(*trail.Trail) error) (trail.Trail, error) {
	var t trail.Trail
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		var err error
		if t, err = readTrail(ctx, tx, account, name, true); err != nil {
			return err
		}
		if err := fn(&t); err != nil {
			return err
		}
		rec, err := trailrec.Encode(&t)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE trail_trails SET rec = $3 WHERE account = $1 AND name = $2", []byte(account), []byte(name), rec)
		return err
	})
	if err != nil {
		return trail.Trail{}, fmt.Errorf("pgtrail: update trail %s of %s: %w", name, account, err)
	}
	return t, nil
}

// Delete implements trail.Store.
func (s *Store) Delete(ctx context.Context, account, name string) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM trail_trails WHERE account = $1 AND name = $2", []byte(account), []byte(name))
		if err == nil && tag.RowsAffected() == 0 {
			err = trail.ErrTrailNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("pgtrail: delete trail %s of %s: %w", name, account, err)
	}
	return nil
}
