package kmsbolt_test

import (
	"context"
	"path/filepath"
	"strings"
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

// TestScanKeysSkipsDamagedRecord: one unreadable record is reported, and every other key is
// still scanned, so the scheduler keeps deleting and rotating them.
func TestScanKeysSkipsDamagedRecord(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := kmsbolt.New(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"a-key", "c-key"} {
		if err := s.CreateKey(ctx, &kms.Key{ID: id, Account: "111122223333"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("kms.keys")).Put([]byte("b-key"), []byte("{not json"))
	}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	err = s.ScanKeys(ctx, func(k *kms.Key) bool { seen = append(seen, k.ID); return true })
	if err == nil || !strings.Contains(err.Error(), "b-key") {
		t.Fatalf("damaged record not reported: %v", err)
	}
	if strings.Join(seen, ",") != "a-key,c-key" {
		t.Fatalf("scanned %v, want both readable keys", seen)
	}
}
