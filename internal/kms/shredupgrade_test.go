package kms_test

import (
	"context"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	"github.com/coffer/coffer/internal/kms/kmstest"
	bolt "go.etcd.io/bbolt"
)

// unslotted lists the key versions and import wrapping keys of the store with sealed
// material and no shred slot.
func unslotted(t *testing.T, db *bolt.DB) []string {
	t.Helper()
	st, err := kmsbolt.New(db)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = st.ScanKeys(context.Background(), func(k *kms.Key) bool {
		for _, v := range k.Versions {
			if len(v.Sealed) > 0 && v.Slot == 0 {
				out = append(out, k.ID)
			}
		}
		if k.Import != nil && len(k.Import.Sealed) > 0 && k.Import.Slot == 0 {
			out = append(out, k.ID+"/import")
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestShredUpgrade opens stores whose material has no shred slots, with a shredder: at start
// every material is sealed again under a slot of its own, every key works as before, and
// later starts change nothing.
func TestShredUpgrade(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		// store makes the store in a directory and returns the uses that must keep working.
		store func(t *testing.T) (string, []legacyCheck)
	}{
		{"format 1, before record MACs", func(t *testing.T) (string, []legacyCheck) {
			dir, fx := readLegacyFixture(t)
			return dir, legacyChecks(ctx, fx)
		}},
		{"format 2, MACed without shred slots", func(t *testing.T) (string, []legacyCheck) {
			dir := t.TempDir()
			s, db := newSvc(t, dir, nil)
			defer db.Close()
			sym, err := s.CreateKey(ctx, alice, kms.CreateKeyInput{})
			if err != nil {
				t.Fatal(err)
			}
			blob, err := s.Encrypt(ctx, alice, kms.EncryptInput{KeyId: sym.KeyId, Plaintext: []byte("format 2")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.RotateKeyOnDemand(ctx, alice, sym.KeyId); err != nil {
				t.Fatal(err)
			}
			ecc, err := s.CreateKey(ctx, alice, kms.CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: kms.UsageSignVerify})
			if err != nil {
				t.Fatal(err)
			}
			if len(unslotted(t, db)) != 3 {
				t.Fatalf("material without slots: %q, want 3", unslotted(t, db))
			}
			return dir, []legacyCheck{
				{"decrypt from before the rotation", func(s *kms.Service) error {
					return decryptsTo(ctx, s, alice, blob.CiphertextBlob, nil, "format 2")
				}},
				{"encrypt after the rotation", func(s *kms.Service) error {
					out, err := s.Encrypt(ctx, alice, kms.EncryptInput{KeyId: sym.KeyId, Plaintext: []byte("x")})
					if err == nil {
						err = decryptsTo(ctx, s, alice, out.CiphertextBlob, nil, "x")
					}
					return err
				}},
				{"sign", func(s *kms.Service) error {
					_, err := s.Sign(ctx, alice, kms.SignInput{KeyId: ecc.KeyId, Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"})
					return err
				}},
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, checks := tc.store(t)
			env := openShredEnv(t, dir, kmstest.NewClock(time.Now()))
			if left := unslotted(t, env.db); len(left) != 0 {
				t.Fatalf("material still without a shred slot after the upgrade: %q", left)
			}
			if f := checkFindings(t, env.svc); len(f) != 0 {
				t.Fatalf("admin check after the upgrade: %q", f)
			}
			upgraded := storedRecords(t, env.db)
			used, err := env.shred.Used(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range checks {
				if err := c.run(env.svc); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
			}
			env = env.reopen(t)
			if !maps.Equal(upgraded, storedRecords(t, env.db)) {
				t.Fatal("a later start changed the records")
			}
			if again, _ := env.shred.Used(ctx); len(again) != len(used) {
				t.Fatalf("slots in use: %d after the upgrade, %d after a restart", len(used), len(again))
			}
			for _, c := range checks {
				if err := c.run(env.svc); err != nil {
					t.Fatalf("after a restart: %s: %v", c.name, err)
				}
			}
		})
	}
}

// TestShredUpgradeCrashLeavesNoSlots is a crash in the upgrade after its slots were written
// and before its transaction committed: the store is as it was, and the next start upgrades
// it and sweeps the slots the crash left.
func TestShredUpgradeCrashLeavesNoSlots(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, db := newSvc(t, dir, nil)
	for range 3 {
		if _, err := s.CreateKey(ctx, alice, kms.CreateKeyInput{}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	// The crash: slots written, the records not.
	env := &shredEnv{dir: dir}
	sh, err := kms.OpenFileShredder(filepath.Join(dir, "kms", "shred.slots"), env.root(t))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := sh.New(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sh.Close()
	env = openShredEnv(t, dir, kmstest.NewClock(time.Now()))
	if left := unslotted(t, env.db); len(left) != 0 {
		t.Fatalf("material without a shred slot: %q", left)
	}
	used, err := env.shred.Used(ctx)
	if err != nil || len(used) != 3 {
		t.Fatalf("slots in use after the sweep: %v %v, want the 3 the keys name", used, err)
	}
}
