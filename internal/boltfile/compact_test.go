package boltfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestCompactDropsFreePages deletes a record whose bytes then stay in a free page, compacts,
// and requires the bytes gone from the file and the live records kept; a file another
// process holds is refused.
func TestCompactDropsFreePages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := Open(path, []string{"b"})
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("deleted-record-bytes-0123456789")
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		if err := b.Put([]byte("kept"), []byte("live value")); err != nil {
			return err
		}
		return b.Put([]byte("gone"), secret)
	})
	if err == nil {
		err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Delete([]byte("gone")) })
	}
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(path); !bytes.Contains(raw, secret) {
		t.Fatal("the deleted record's bytes are not in a free page: the test proves nothing")
	}
	if _, _, err := Compact(path); err == nil {
		t.Fatal("compacted a file a server holds")
	}
	db.Close()
	if _, _, err := Compact(path); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(path); bytes.Contains(raw, secret) {
		t.Fatal("the deleted record's bytes are still in the file after compaction")
	}
	db, err = Open(path, []string{"b"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte("b")).Get([]byte("kept")); string(v) != "live value" {
			t.Fatalf("the live record after compaction: %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".compact"); err == nil {
		t.Fatal("the temporary copy is left")
	}
}
