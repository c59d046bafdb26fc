package pgdb

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Handle is what every PostgreSQL-backed store holds: the pool it shares with the node's
// other stores, and whether the store was closed. A store keeps one as a field and makes each
// call through Check, Write or Read.
type Handle struct {
	// Pool is the shared pool, for reads of one statement (after Check).
	Pool      *pgxpool.Pool
	errClosed error
	closed    atomic.Bool
}

// NewHandle brings component's schema up to date (Migrate: safe when several nodes start at
// once) and returns the handle of a store on pool, whose calls fail with errClosed (the
// store's own error) after Close. The pool stays the caller's.
func NewHandle(ctx context.Context, pool *pgxpool.Pool, component string, migs []Migration, errClosed error) (*Handle, error) {
	if err := Migrate(ctx, pool, component, migs); err != nil {
		return nil, err
	}
	return &Handle{Pool: pool, errClosed: errClosed}, nil
}

// Close marks the store closed; it does not close the pool.
func (h *Handle) Close() { h.closed.Store(true) }

// Check returns the store's closed error after Close, else ctx's error.
func (h *Handle) Check(ctx context.Context) error {
	if h.closed.Load() {
		return h.errClosed
	}
	return ctx.Err()
}

// Write runs fn in a serializable transaction (Serializable), after Check.
func (h *Handle) Write(ctx context.Context, fn func(pgx.Tx) error) error {
	if err := h.Check(ctx); err != nil {
		return err
	}
	return Serializable(ctx, h.Pool, fn)
}

// readTx is the transaction of a read of several statements: one snapshot, no writes.
var readTx = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// Read runs fn, a read of several statements, in a READ ONLY transaction at REPEATABLE READ
// so that they all see one snapshot, after Check.
func (h *Handle) Read(ctx context.Context, fn func(pgx.Tx) error) error {
	if err := h.Check(ctx); err != nil {
		return err
	}
	return InTx(ctx, h.Pool, readTx, fn)
}

// Queryer is what a pool and a transaction have in common, for helpers that read through
// either.
type Queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}
