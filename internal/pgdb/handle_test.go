package pgdb_test

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/pgdb"
	"github.com/coffer/coffer/internal/pgtest"
)

// TestHandle: a handle migrates its component, writes and reads through the pool, sees in a
// Read what a Write committed, and after Close refuses every call with the store's error.
func TestHandle(t *testing.T) {
	url := pgtest.NewDatabase(t)
	pool := pgtest.OpenPool(t, url)
	errClosed := errors.New("test store closed")
	migs := []pgdb.Migration{{Version: 1, Name: "t", SQL: "CREATE TABLE t (k int PRIMARY KEY)"}}
	h, err := pgdb.NewHandle(ctx, pool, "handle-test", migs, errClosed)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Write(ctx, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, "INSERT INTO t VALUES (1), (2)"); return err }); err != nil {
		t.Fatal(err)
	}
	var n int
	err = h.Read(ctx, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, "INSERT INTO t VALUES (3)"); return err })
	if err == nil {
		t.Fatal("a write in Read's transaction succeeded")
	}
	if err := h.Read(ctx, func(tx pgx.Tx) error { return tx.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n) }); err != nil || n != 2 {
		t.Fatalf("Read counts %d rows (%v), want 2", n, err)
	}
	h.Close()
	calls := []struct {
		name string
		call func() error
	}{
		{"Check", func() error { return h.Check(ctx) }},
		{"Write", func() error { return h.Write(ctx, func(pgx.Tx) error { return nil }) }},
		{"Read", func() error { return h.Read(ctx, func(pgx.Tx) error { return nil }) }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, errClosed) {
				t.Fatalf("%s after Close = %v, want the store's closed error", tc.name, err)
			}
		})
	}
}
