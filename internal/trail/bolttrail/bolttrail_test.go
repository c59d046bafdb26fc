package bolttrail_test

import (
	"path/filepath"
	"testing"

	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/trail"
	"github.com/coffer/coffer/internal/trail/bolttrail"
	"github.com/coffer/coffer/internal/trail/trailtest"
)

func TestConformance(t *testing.T) {
	trailtest.Run(t, func(t *testing.T) trail.Store {
		db, err := boltfile.Open(filepath.Join(t.TempDir(), "meta.db"), bolttrail.TopBuckets())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := bolttrail.New(db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
