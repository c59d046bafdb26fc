package bolttrail_test

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/trail"
	"github.com/coffer/coffer/internal/trail/bolttrail"
	"github.com/coffer/coffer/internal/trail/trailtest"
)

// openDB opens a fresh meta.db, closed when t ends.
func openDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := boltfile.Open(filepath.Join(t.TempDir(), "meta.db"), bolttrail.TopBuckets())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newStore(t *testing.T, db *bolt.DB) *bolttrail.Store {
	t.Helper()
	s, err := bolttrail.New(db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	trailtest.Run(t, func(t *testing.T) trail.Store { return newStore(t, openDB(t)) })
}

// TestNodes runs trailtest's multi-node cases on two stores sharing one file, as the two
// nodes share a database: the cases hold for any backend.
func TestNodes(t *testing.T) {
	trailtest.RunNodes(t, func(t *testing.T) (trail.Store, trail.Store) {
		db := openDB(t)
		return newStore(t, db), newStore(t, db)
	})
}
