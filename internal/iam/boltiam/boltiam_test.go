package boltiam_test

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/boltiam"
	"github.com/coffer/coffer/internal/iam/iamtest"
)

func TestConformance(t *testing.T) {
	iamtest.Run(t, func(t *testing.T) iam.Store {
		db, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"), 0o600, &bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := boltiam.New(db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
