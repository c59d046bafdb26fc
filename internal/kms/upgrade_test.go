package kms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	bolt "go.etcd.io/bbolt"
)

// legacyFixture names what testdata/legacy-format1 holds: a store written by Coffer before
// record MACs (format 1), with the results of operations made on it then.
type legacyFixture struct {
	Symmetric, HMAC, ECC, External, PendingDeletion, Owned, GrantID string
	ManagedS3                                                       string
	CiphertextBeforeRotation, CiphertextAfterRotation               []byte
	Mac, OwnedCiphertext                                            []byte
}

// readLegacyFixture copies the format-1 store into a new directory and reads its fixture.
func readLegacyFixture(t *testing.T) (string, legacyFixture) {
	t.Helper()
	dir := copyStore(t, filepath.Join("testdata", "legacy-format1"))
	raw, err := os.ReadFile(filepath.Join(dir, "fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx legacyFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	return dir, fx
}

// copyStore copies a data directory of the KMS (meta.db, kms/root.key) into a new temporary
// directory, with the modes the service requires.
func copyStore(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// openSvcOn opens a KMS, with an empty cache, on an open database and the root key in dir,
// and runs the start-up steps the server runs (CheckRoot, UpgradeRecords).
func openSvcOn(t testing.TB, db *bolt.DB, dir string) *kms.Service {
	t.Helper()
	s := svcOnDB(t, db, dir, kms.Config{})
	if err := s.CheckRoot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.UpgradeRecords(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// storedRecords returns every record of the KMS buckets of db, by bucket and key.
func storedRecords(t *testing.T, db *bolt.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := db.View(func(tx *bolt.Tx) error {
		for _, name := range kmsbolt.TopBuckets() {
			b := tx.Bucket([]byte(name))
			if b == nil {
				continue
			}
			_ = b.ForEach(func(k, v []byte) error {
				out[name+"\x00"+string(k)] = string(v)
				return nil
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkFindings(t *testing.T, s *kms.Service) []string {
	t.Helper()
	var findings []string
	if err := s.CheckKeys(context.Background(), func(f string) { findings = append(findings, f) }); err != nil {
		t.Fatal(err)
	}
	return findings
}

// TestUpgradeFormat1Store opens a store written before record MACs: at the first start every
// record is MACed in one transaction and every key, alias and grant works as before; the next
// starts change nothing.
func TestUpgradeFormat1Store(t *testing.T) {
	ctx := context.Background()
	dir, fx := readLegacyFixture(t)
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := storedRecords(t, db)

	// Before the upgrade the admin check says the records have no MAC yet.
	pre := svcOnDB(t, db, dir, kms.Config{})
	if f := checkFindings(t, pre); len(f) == 0 || !strings.Contains(strings.Join(f, "\n"), "has no MAC") {
		t.Fatalf("admin check before the upgrade: %q", f)
	}

	// Nor does a service use them before the upgrade: a record without a MAC is damaged.
	if _, err := pre.Encrypt(ctx, alice, kms.EncryptInput{KeyId: fx.Symmetric, Plaintext: []byte("x")}); !errors.Is(err, kms.ErrStoreDamaged) {
		t.Fatalf("Encrypt before the upgrade = %v, want ErrStoreDamaged", err)
	}

	s := openSvcOn(t, db, dir)
	upgraded := storedRecords(t, db)
	for name, v := range upgraded {
		if strings.HasPrefix(name, "kms.keys\x00") || strings.HasPrefix(name, "kms.aliases\x00") || strings.HasPrefix(name, "kms.grants\x00") {
			if !strings.Contains(v, `"RecordFormat":2,"MAC":"`) {
				t.Errorf("record %q was not upgraded: %s", name, v)
			}
			if v == before[name] {
				t.Errorf("record %q unchanged", name)
			}
		}
	}
	// The same records, and the store's memory of the upgrade.
	if len(upgraded) != len(before)+1 || upgraded["kms.root\x00record-format"] != "\x00\x00\x00\x02" {
		t.Fatalf("records before %d, after %d (record format %q)", len(before), len(upgraded), upgraded["kms.root\x00record-format"])
	}
	if f := checkFindings(t, s); len(f) != 0 {
		t.Fatalf("admin check after the upgrade: %q", f)
	}

	checks := legacyChecks(ctx, fx)
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(s); err != nil {
				t.Fatal(err)
			}
		})
	}

	// Later starts find nothing to upgrade and change nothing; the keys still work.
	for range 2 {
		s = openSvcOn(t, db, dir)
		if !maps.Equal(upgraded, storedRecords(t, db)) {
			t.Fatal("a later start changed the records")
		}
	}
	for _, tc := range checks {
		if err := tc.run(s); err != nil {
			t.Fatalf("after restart: %s: %v", tc.name, err)
		}
	}
}

// legacyCheck is one use of a key of the format-1 fixture, which must work once upgraded.
type legacyCheck struct {
	name string
	run  func(s *kms.Service) error
}

// legacyChecks are the uses of every kind of key the format-1 fixture holds.
func legacyChecks(ctx context.Context, fx legacyFixture) []legacyCheck {
	ec := map[string]string{"app": "legacy"}
	return []legacyCheck{
		{"decrypt from before the rotation", func(s *kms.Service) error {
			return decryptsTo(ctx, s, alice, fx.CiphertextBeforeRotation, ec, "before rotation")
		}},
		{"decrypt from after the rotation", func(s *kms.Service) error {
			return decryptsTo(ctx, s, alice, fx.CiphertextAfterRotation, ec, "after rotation")
		}},
		{"encrypt by alias", func(s *kms.Service) error {
			out, err := s.Encrypt(ctx, alice, kms.EncryptInput{KeyId: "alias/legacy", Plaintext: []byte("x")})
			if err == nil && !strings.HasSuffix(out.KeyId, fx.Symmetric) {
				return errors.New("alias names " + out.KeyId)
			}
			return err
		}},
		{"grantee encrypts under the grant's constraints", func(s *kms.Service) error {
			_, err := s.Encrypt(ctx, bob, kms.EncryptInput{KeyId: s.KeyARN(alice.Account, fx.Symmetric), Plaintext: []byte("x"), EncryptionContext: ec})
			return err
		}},
		{"grantee outside the constraints is refused", func(s *kms.Service) error {
			_, err := s.Encrypt(ctx, bob, kms.EncryptInput{KeyId: s.KeyARN(alice.Account, fx.Symmetric), Plaintext: []byte("x")})
			if !errors.Is(err, kms.ErrAccessDenied) {
				return errors.New("want AccessDenied, got " + errString(err))
			}
			return nil
		}},
		{"verify a MAC from before", func(s *kms.Service) error {
			_, err := s.VerifyMac(ctx, alice, kms.MacInput{KeyId: fx.HMAC, Message: []byte("legacy message"), MacAlgorithm: "HMAC_SHA_256", Mac: fx.Mac})
			return err
		}},
		{"sign", func(s *kms.Service) error {
			_, err := s.Sign(ctx, alice, kms.SignInput{KeyId: fx.ECC, Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"})
			return err
		}},
		{"key pending import", func(s *kms.Service) error { return keyInState(ctx, s, fx.External, kms.StatePendingImport) }},
		{"key pending deletion", func(s *kms.Service) error { return keyInState(ctx, s, fx.PendingDeletion, kms.StatePendingDeletion) }},
		{"AWS managed key", func(s *kms.Service) error {
			arn, err := s.ServiceKey(ctx, alice.Account, "aws/s3")
			if err == nil && arn != fx.ManagedS3 {
				return errors.New("a new managed key " + arn)
			}
			return err
		}},
		{"owned key", func(s *kms.Service) error {
			id, err := s.OwnedKey(ctx, "coffer/sse-s3")
			if err == nil && id != fx.Owned {
				return errors.New("a new owned key " + id)
			}
			pt, err := s.DecryptOwned(ctx, fx.OwnedCiphertext, ec)
			if err == nil && string(pt) != "owned secret" {
				return errors.New("owned plaintext " + string(pt))
			}
			return err
		}},
	}
}

func decryptsTo(ctx context.Context, s *kms.Service, c kms.Caller, blob []byte, ec map[string]string, want string) error {
	out, err := s.Decrypt(ctx, c, kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec})
	if err != nil {
		return err
	}
	if !bytes.Equal(out.Plaintext, []byte(want)) {
		return errors.New("plaintext " + string(out.Plaintext))
	}
	return nil
}

func keyInState(ctx context.Context, s *kms.Service, id string, want kms.KeyState) error {
	m, err := s.DescribeKey(ctx, alice, id)
	if err == nil && m.KeyState != want {
		return errors.New("state " + string(m.KeyState))
	}
	return err
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// stripMAC rewrites a stored record as a record from before record MACs (no RecordFormat, no
// MAC), with change applied to its fields: what an attacker with write access to meta.db can
// do, to have the next start's upgrade MAC a forged record.
func stripMAC(tx *bolt.Tx, bucket, key string, change func(map[string]any)) error {
	b := tx.Bucket([]byte(bucket))
	var rec map[string]any
	if err := json.Unmarshal(b.Get([]byte(key)), &rec); err != nil {
		return err
	}
	delete(rec, "RecordFormat")
	delete(rec, "MAC")
	if change != nil {
		change(rec)
	}
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), v)
}

// TestUpgradeRefusesStrippedMACs: records of an upgraded store rewritten without their MAC
// (and changed) are not upgraded again at the next start, even when every record was
// stripped and the root-key canary deleted: their key material, sealed under the current AAD
// label, shows the store was upgraded before. The stripped records stay unusable.
func TestUpgradeRefusesStrippedMACs(t *testing.T) {
	ctx := context.Background()
	bobEverything := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}`
	cases := []struct {
		name  string
		strip func(t *testing.T, tx *bolt.Tx, fx legacyFixture) error
		// hmacWorks says whether the untouched HMAC key must still work.
		hmacWorks bool
	}{
		{"one key, its policy opened to everyone", func(t *testing.T, tx *bolt.Tx, fx legacyFixture) error {
			return stripMAC(tx, "kms.keys", fx.Symmetric, func(r map[string]any) { r["Policy"] = bobEverything })
		}, true},
		// The store's memory of its upgrade deleted too: the next start reads every record again.
		{"every record, policies opened, canary and upgrade memory deleted", func(t *testing.T, tx *bolt.Tx, fx legacyFixture) error {
			for _, bucket := range []string{"kms.keys", "kms.aliases", "kms.grants"} {
				var names []string
				_ = tx.Bucket([]byte(bucket)).ForEach(func(k, _ []byte) error {
					names = append(names, string(k))
					return nil
				})
				for _, name := range names {
					err := stripMAC(tx, bucket, name, func(r map[string]any) {
						if _, ok := r["Policy"]; ok {
							r["Policy"] = bobEverything
						}
					})
					if err != nil {
						return err
					}
				}
			}
			for _, k := range []string{"canary", "record-format"} {
				if tx.Bucket([]byte("kms.root")).Get([]byte(k)) == nil {
					t.Fatalf("kms.root has no %q", k)
				}
				if err := tx.Bucket([]byte("kms.root")).Delete([]byte(k)); err != nil {
					return err
				}
			}
			return nil
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, fx := readLegacyFixture(t)
			db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			openSvcOn(t, db, dir) // the upgrade
			if err := db.Update(func(tx *bolt.Tx) error { return tc.strip(t, tx, fx) }); err != nil {
				t.Fatal(err)
			}
			s := openSvcOn(t, db, dir)
			for _, c := range []kms.Caller{alice, bob} {
				_, err := s.Encrypt(ctx, c, kms.EncryptInput{KeyId: s.KeyARN(alice.Account, fx.Symmetric), Plaintext: []byte("x")})
				if !errors.Is(err, kms.ErrStoreDamaged) {
					t.Errorf("Encrypt by %s = %v, want ErrStoreDamaged", c.Account, err)
				}
			}
			_, err = s.VerifyMac(ctx, alice, kms.MacInput{KeyId: fx.HMAC, Message: []byte("legacy message"), MacAlgorithm: "HMAC_SHA_256", Mac: fx.Mac})
			if tc.hmacWorks && err != nil {
				t.Errorf("an untouched key: %v", err)
			}
			if !tc.hmacWorks && !errors.Is(err, kms.ErrStoreDamaged) {
				t.Errorf("a stripped key: %v, want ErrStoreDamaged", err)
			}
			if f := checkFindings(t, s); len(f) == 0 {
				t.Error("admin check found nothing")
			}
		})
	}
}
