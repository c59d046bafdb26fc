package kmsbolt_test

import (
	"path/filepath"
	"testing"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	"github.com/coffer/coffer/internal/kms/kmstest"
	bolt "go.etcd.io/bbolt"
)

func TestConformance(t *testing.T) {
	kmstest.Run(t, func(t *testing.T) kms.Store {
		db, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := kmsbolt.New(db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestBucketsArePrefixed(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := kmsbolt.New(db); err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if len(name) < 4 || string(name[:4]) != "kms." {
				t.Errorf("bucket %q is not prefixed kms.", name)
			}
			return nil
		})
	})
}
