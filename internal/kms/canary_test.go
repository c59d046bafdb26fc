package kms_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/kms"
)

// TestCheckRootCanaryDamagedOrKeyReplaced: a damaged canary record (one byte of meta.db) must
// not stop the service when stored key material proves the root key right; a replaced root
// key still refuses the start, damaged canary or not.
func TestCheckRootCanaryDamagedOrKeyReplaced(t *testing.T) {
	ctx := context.Background()
	damageCanary := func(t *testing.T, dir string) {
		db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("kms.root"))
			v := append([]byte(nil), b.Get([]byte("canary"))...)
			v[len(v)/2] ^= 0x01
			return b.Put([]byte("canary"), v)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	replaceRoot := func(t *testing.T, dir string) {
		if err := os.Remove(filepath.Join(dir, "kms", "root.key")); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		damage []func(*testing.T, string)
		starts bool
	}{
		{"canary damaged", []func(*testing.T, string){damageCanary}, true},
		{"root key replaced", []func(*testing.T, string){replaceRoot}, false},
		{"canary damaged and root key replaced", []func(*testing.T, string){damageCanary, replaceRoot}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, db := newSvc(t, dir, nil)
			if err := s.CheckRoot(ctx); err != nil {
				t.Fatal(err)
			}
			m, err := s.CreateKey(ctx, alice, kms.CreateKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			for _, d := range tc.damage {
				d(t, dir)
			}
			s2, db2 := newSvc(t, dir, nil)
			defer db2.Close()
			err = s2.CheckRoot(ctx)
			if started := err == nil; started != tc.starts {
				t.Fatalf("CheckRoot = %v; want the start allowed %v", err, tc.starts)
			}
			if !tc.starts {
				return
			}
			if _, err := s2.Encrypt(ctx, alice, kms.EncryptInput{KeyId: m.KeyId, Plaintext: []byte("x")}); err != nil {
				t.Fatalf("Encrypt after the start: %v", err)
			}
		})
	}
}
