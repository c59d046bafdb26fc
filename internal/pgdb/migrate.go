package pgdb

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Migration is one step of a component's schema. Versions of a component start at 1 and
// follow each other without gaps; a released migration never changes, a new one is added.
type Migration struct {
	Version int
	Name    string // what it does, for the migrations table and messages
	SQL     string // one or more statements, run in the migration's transaction
}

// ErrSchemaTooNew means the database was migrated by a newer Coffer than this one: its schema
// has versions this binary does not know, so it refuses to use it.
var ErrSchemaTooNew = errors.New("pgdb: database schema is newer than this binary")

// migrationsTable records, per component, the migrations applied to the database.
const migrationsTable = `CREATE TABLE IF NOT EXISTS coffer_schema_migrations (
	component  text COLLATE "C" NOT NULL,
	version    integer NOT NULL,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (component, version)
)`

// lockKey is the advisory lock key of schema migrations, the same for every component: each
// node takes it once at start.
func lockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("coffer schema migrations"))
	return int64(h.Sum64())
}

// Migrate brings component's schema up to date: in one transaction, under a transaction-scoped
// advisory lock so that nodes starting at the same time take turns, it applies each migration
// of migs newer than the database's version and records it. The transaction runs at READ
// COMMITTED so that a node that waited for the lock sees what the node before it applied (at
// stricter levels its snapshot would predate the other's commit). Where the lock is a no-op,
// the migrations table's primary key makes all but one node's transaction fail and run again
// (see the package documentation). ErrSchemaTooNew if the database is ahead of migs.
func Migrate(ctx context.Context, pool *pgxpool.Pool, component string, migs []Migration) error {
	for i, m := range migs {
		if m.Version != i+1 {
			return fmt.Errorf("pgdb: migrations of %s: version %d at position %d, want %d", component, m.Version, i, i+1)
		}
	}
	err := InTx(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey()); err != nil {
			return fmt.Errorf("advisory lock: %w", err)
		}
		if _, err := tx.Exec(ctx, migrationsTable); err != nil {
			return fmt.Errorf("migrations table: %w", err)
		}
		var current int
		err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM coffer_schema_migrations WHERE component = $1",
			component).Scan(&current)
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(migs) {
			return fmt.Errorf("%w: %s is at version %d, this binary knows %d", ErrSchemaTooNew, component, current, len(migs))
		}
		for _, m := range migs[current:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
			}
			_, err := tx.Exec(ctx, "INSERT INTO coffer_schema_migrations (component, version, name) VALUES ($1, $2, $3)",
				component, m.Version, m.Name)
			if err != nil {
				return fmt.Errorf("record migration %d (%s): %w", m.Version, m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgdb: migrate %s: %w", component, err)
	}
	return nil
}
