package pgmeta_test

import (
	"context"
	"testing"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/metatest"
	"github.com/coffer/coffer/internal/meta/pgmeta"
	"github.com/coffer/coffer/internal/pgdb"
	"github.com/coffer/coffer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newNode opens a store on the database at url with a pool of its own, as one Coffer node
// would; the store and pool close when t ends.
func newNode(t *testing.T, url string) *pgmeta.Store {
	t.Helper()
	ctx := context.Background()
	pool, err := pgdb.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := pgmeta.New(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Store { return newNode(t, pgtest.NewDatabase(t)) })
}

// TestNodes runs metatest's multi-node cases on two stores with their own pools on one
// database, as two Coffer nodes would run.
func TestNodes(t *testing.T) {
	metatest.RunNodes(t, func(t *testing.T) (meta.Store, meta.Store) {
		url := pgtest.NewDatabase(t)
		return newNode(t, url), newNode(t, url)
	})
}
