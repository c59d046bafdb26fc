package pgdb_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/pgdb"
	"github.com/coffer/coffer/internal/pgtest"
)

// TestSerializableRetries: read-modify-write transactions racing on one row from several
// pools all take effect, through retries after serialization failures, and an error from fn
// rolls back and comes back as it is.
func TestSerializableRetries(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := pgtest.OpenPool(t, url), pgtest.OpenPool(t, url)
	if _, err := a.Exec(ctx, "CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counter VALUES (1, 0)"); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 10
	var runs atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		pool := a
		if w%2 == 1 {
			pool = b
		}
		wg.Go(func() {
			for range each {
				err := pgdb.Serializable(ctx, pool, func(tx pgx.Tx) error {
					runs.Add(1)
					var n int
					// A plain read, then a write: a lost update unless the database
					// serializes, which it does by failing all but one.
					if err := tx.QueryRow(ctx, "SELECT n FROM counter WHERE id = 1").Scan(&n); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, "UPDATE counter SET n = $1 WHERE id = 1", n+1)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("transaction: %v", err)
	}
	var n int
	if err := a.QueryRow(ctx, "SELECT n FROM counter WHERE id = 1").Scan(&n); err != nil || n != writers*each {
		t.Fatalf("counter = %d (err %v), want %d", n, err, writers*each)
	}
	t.Logf("%d transactions took %d runs", writers*each, runs.Load())

	t.Run("fn error rolls back", func(t *testing.T) {
		boom := errors.New("boom")
		calls := 0
		err := pgdb.Serializable(ctx, a, func(tx pgx.Tx) error {
			calls++
			if _, err := tx.Exec(ctx, "UPDATE counter SET n = -1"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || calls != 1 {
			t.Fatalf("Serializable = %v after %d calls, want boom after 1", err, calls)
		}
		if err := a.QueryRow(ctx, "SELECT n FROM counter WHERE id = 1").Scan(&n); err != nil || n != writers*each {
			t.Fatalf("counter = %d after a failed transaction (err %v)", n, err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		done, cancel := context.WithCancel(ctx)
		cancel()
		err := pgdb.Serializable(done, a, func(pgx.Tx) error { t.Fatal("fn ran"); return nil })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Serializable = %v, want context.Canceled", err)
		}
	})
}
