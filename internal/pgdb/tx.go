package pgdb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxAttempts bounds how often one transaction is tried: enough for heavy contention on one
// row (each failure means another transaction committed), few enough that a livelock ends.
const maxAttempts = 100

// Serializable runs fn in a SERIALIZABLE transaction and commits it; see InTx.
func Serializable(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	return InTx(ctx, pool, pgx.TxOptions{IsoLevel: pgx.Serializable}, fn)
}

// InTx runs fn in a transaction with opts and commits it if fn returns nil; an error from fn
// rolls it back and is returned as it is. When the transaction fails because it could not be
// serialized with others or was chosen to break a deadlock (SQLSTATE 40001, 40P01), in fn or
// at commit, InTx waits a short random while and runs fn again in a new transaction: fn must
// therefore depend only on what it reads through its transaction and deliver its results by
// assignment, so that the last run's are the ones that committed.
func InTx(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	var err error
	for attempt := range maxAttempts {
		if err = runTx(ctx, pool, opts, fn); !Retryable(err) {
			return err
		}
		backoff := min(time.Millisecond<<min(attempt, 7), 100*time.Millisecond)
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgdb: %w (after: %w)", ctx.Err(), err)
		case <-time.After(rand.N(backoff) + time.Millisecond/2):
		}
	}
	return fmt.Errorf("pgdb: transaction still conflicting after %d attempts: %w", maxAttempts, err)
}

// runTx is one attempt of InTx.
func runTx(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("pgdb: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgdb: commit: %w", err)
	}
	return nil
}

// SQLSTATE codes of a transaction that failed for its timing, not its content.
const (
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// Retryable reports whether err says the transaction failed only because of concurrent
// transactions, so that running it again may succeed.
func Retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected)
}

// IsUniqueViolation reports whether err is a unique or primary-key constraint violation.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// IsForeignKeyViolation reports whether err is a foreign-key constraint violation: the row
// a new row refers to is gone.
func IsForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}
