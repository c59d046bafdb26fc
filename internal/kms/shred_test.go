package kms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	"github.com/coffer/coffer/internal/kms/kmstest"
	bolt "go.etcd.io/bbolt"
)

// shredEnv is a KMS over meta.db, kms/root.key and kms/shred.slots in dir, opened with the
// start-up steps the server runs (CheckRoot, UpgradeRecords, SweepShredSlots).
type shredEnv struct {
	dir   string
	clock *kmstest.Clock
	db    *bolt.DB
	shred *kms.FileShredder
	svc   *kms.Service
	token []byte // an import token a test keeps
}

func openShredEnv(t *testing.T, dir string, clock *kmstest.Clock) *shredEnv {
	t.Helper()
	ctx := context.Background()
	env := &shredEnv{dir: dir, clock: clock}
	var err error
	env.db, err = bolt.Open(filepath.Join(dir, "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "kms"), 0o700); err != nil {
		t.Fatal(err)
	}
	env.shred, err = kms.OpenFileShredder(env.slotsPath(), env.root(t))
	if err != nil {
		t.Fatal(err)
	}
	env.svc = svcOnDB(t, env.db, dir, kms.Config{Now: clock.Now, Shredder: env.shred})
	if err := env.svc.CheckRoot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := env.svc.UpgradeRecords(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := env.svc.SweepShredSlots(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.close)
	return env
}

func (env *shredEnv) slotsPath() string { return filepath.Join(env.dir, "kms", "shred.slots") }

func (env *shredEnv) root(t *testing.T) kms.RootKey {
	t.Helper()
	root, err := kms.OpenFileRootKey(filepath.Join(env.dir, "kms", "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func (env *shredEnv) close() {
	env.db.Close()
	env.shred.Close()
}

// reopen closes the KMS and opens it again on the same files, as a restart does.
func (env *shredEnv) reopen(t *testing.T) *shredEnv {
	t.Helper()
	env.close()
	return openShredEnv(t, env.dir, env.clock)
}

// record reads a key's record as stored.
func (env *shredEnv) record(t *testing.T, id string) *kms.Key {
	t.Helper()
	st, err := kmsbolt.New(env.db)
	if err != nil {
		t.Fatal(err)
	}
	k, err := st.GetKey(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (env *shredEnv) createKey(t *testing.T, in kms.CreateKeyInput) string {
	t.Helper()
	m, err := env.svc.CreateKey(context.Background(), alice, in)
	if err != nil {
		t.Fatal(err)
	}
	return m.KeyId
}

func (env *shredEnv) encrypt(t *testing.T, id, text string) []byte {
	t.Helper()
	out, err := env.svc.Encrypt(context.Background(), alice, kms.EncryptInput{KeyId: id, Plaintext: []byte(text)})
	if err != nil {
		t.Fatal(err)
	}
	return out.CiphertextBlob
}

// importMaterial imports 32 random bytes into an EXTERNAL key, expiring at validTo (never
// when zero).
func (env *shredEnv) importMaterial(t *testing.T, id string, validTo time.Time) {
	t.Helper()
	ctx := context.Background()
	p, err := env.svc.GetParametersForImport(ctx, alice, id, "RSAES_OAEP_SHA_256", "RSA_2048")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(p.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	material := make([]byte, 32)
	rand.Read(material)
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), material, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.svc.ImportKeyMaterial(ctx, alice, kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapped, ValidTo: validTo})
	if err != nil {
		t.Fatal(err)
	}
}

var sealedInFile = regexp.MustCompile(`"Sealed":"([A-Za-z0-9+/=]+)"`)

// copiesInFile finds every sealed value in the raw bytes of meta.db (the live records and
// whatever copies of earlier ones its free pages hold) that the root key opens as version
// of key id, and returns, for each, the error of opening its inner layer (nil: it opens).
func (env *shredEnv) copiesInFile(t *testing.T, id string, version uint32) []error {
	t.Helper()
	ctx := context.Background()
	raw, err := os.ReadFile(filepath.Join(env.dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	root, aad := env.root(t), kms.SealAAD(id, version)
	seen := map[string]bool{}
	var out []error
	for _, m := range sealedInFile.FindAllSubmatch(raw, -1) {
		sealed, err := base64.StdEncoding.DecodeString(string(m[1]))
		if err != nil || seen[string(sealed)] {
			continue
		}
		seen[string(sealed)] = true
		inner, err := root.Open(ctx, sealed, aad)
		if err != nil {
			continue // another key's or version's
		}
		slot := binary.BigEndian.Uint32(inner[4:8])
		pt, err := kms.OpenShredded(ctx, root, slot, sealed, aad, env.shred.Key)
		if err == nil && len(pt) == 0 {
			t.Fatal("a copy opened to nothing")
		}
		out = append(out, err)
	}
	return out
}

// TestShreddedMaterialNotInFreePages destroys key material in each way the KMS does, then
// reads meta.db byte by byte: copies of the material's sealed value are still there (the
// root key opens their outer layer, so they are in the file's free pages), and none opens,
// because the shred slot is destroyed.
func TestShreddedMaterialNotInFreePages(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		// setup makes a key with material (or import parameters), and destroy destroys it.
		setup   func(t *testing.T, env *shredEnv) string
		destroy func(t *testing.T, env *shredEnv, id string)
		// wrappingKey: what is destroyed is the import wrapping key, not key material.
		wrappingKey bool
	}{
		{
			name:  "DeleteKey after the waiting period",
			setup: func(t *testing.T, env *shredEnv) string { return env.createKey(t, kms.CreateKeyInput{}) },
			destroy: func(t *testing.T, env *shredEnv, id string) {
				if _, err := env.svc.ScheduleKeyDeletion(ctx, alice, id, 7); err != nil {
					t.Fatal(err)
				}
				env.clock.Add(7*24*time.Hour + time.Second)
				if err := env.svc.Tick(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := env.svc.DescribeKey(ctx, alice, id); err == nil {
					t.Fatal("the key is still there after the deletion date")
				}
			},
		},
		{
			name: "DeleteImportedKeyMaterial",
			setup: func(t *testing.T, env *shredEnv) string {
				id := env.createKey(t, kms.CreateKeyInput{Origin: kms.OriginExternal})
				env.importMaterial(t, id, time.Time{})
				return id
			},
			destroy: func(t *testing.T, env *shredEnv, id string) {
				if err := env.svc.DeleteImportedKeyMaterial(ctx, alice, id); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "imported material expires",
			setup: func(t *testing.T, env *shredEnv) string {
				id := env.createKey(t, kms.CreateKeyInput{Origin: kms.OriginExternal})
				env.importMaterial(t, id, env.clock.Now().Add(48*time.Hour))
				return id
			},
			destroy: func(t *testing.T, env *shredEnv, id string) {
				env.clock.Add(49 * time.Hour)
				if err := env.svc.Tick(ctx); err != nil {
					t.Fatal(err)
				}
				if err := keyInState(ctx, env.svc, id, kms.StatePendingImport); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "import parameters expire",
			setup: func(t *testing.T, env *shredEnv) string {
				id := env.createKey(t, kms.CreateKeyInput{Origin: kms.OriginExternal})
				p, err := env.svc.GetParametersForImport(ctx, alice, id, "RSAES_OAEP_SHA_256", "RSA_2048")
				if err != nil {
					t.Fatal(err)
				}
				env.token = p.ImportToken
				return id
			},
			destroy: func(t *testing.T, env *shredEnv, id string) {
				env.clock.Add(24*time.Hour + time.Second)
				if err := env.svc.Tick(ctx); err != nil {
					t.Fatal(err)
				}
				_, err := env.svc.ImportKeyMaterial(ctx, alice, kms.ImportKeyMaterialInput{KeyId: id, ImportToken: env.token, EncryptedKeyMaterial: make([]byte, 256)})
				if !errors.Is(err, kms.ErrExpiredImportToken) {
					t.Fatalf("ImportKeyMaterial with the expired token: %v, want ExpiredImportTokenException", err)
				}
			},
			wrappingKey: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := openShredEnv(t, t.TempDir(), kmstest.NewClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)))
			id := tc.setup(t, env)
			aadID, version, blob := id, uint32(1), []byte(nil)
			if tc.wrappingKey {
				aadID, version = id+"/import", 0
			} else {
				blob = env.encrypt(t, id, "to be shredded")
			}
			// Changes of the record, each written to new pages: copies of the sealed value.
			for _, d := range []string{"one", "two", "three"} {
				if err := env.svc.UpdateKeyDescription(ctx, alice, id, d); err != nil {
					t.Fatal(err)
				}
			}
			before := env.copiesInFile(t, aadID, version)
			if len(before) == 0 {
				t.Fatal("no sealed value of the key found in meta.db: the scan reads nothing")
			}
			for _, err := range before {
				if err != nil {
					t.Fatalf("before destruction a copy does not open: %v", err)
				}
			}
			tc.destroy(t, env, id)
			after := env.copiesInFile(t, aadID, version)
			if len(after) == 0 {
				t.Fatal("no copy of the destroyed material left in meta.db's free pages: the test proves nothing")
			}
			for _, err := range after {
				if !errors.Is(err, kms.ErrShredded) {
					t.Fatalf("a copy of destroyed material: %v, want ErrShredded", err)
				}
			}
			t.Logf("%d copies of the sealed material in meta.db, none opens", len(after))
			if blob == nil {
				return
			}
			if _, err := env.svc.Decrypt(ctx, alice, kms.DecryptInput{CiphertextBlob: blob}); err == nil {
				t.Fatal("a blob of destroyed material decrypts")
			}
		})
	}
}

// TestShredSlotDestroyedBeforeRecord is a crash between destroying a key's slot and the
// commit of the record that drops its material (as DeleteImportedKeyMaterial and deletion
// do them): that key fails with an internal error, the others serve, and a deletion still
// deletes it.
func TestShredSlotDestroyedBeforeRecord(t *testing.T) {
	ctx := context.Background()
	env := openShredEnv(t, t.TempDir(), kmstest.NewClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)))
	doomed, other := env.createKey(t, kms.CreateKeyInput{}), env.createKey(t, kms.CreateKeyInput{})
	doomedBlob, otherBlob := env.encrypt(t, doomed, "doomed"), env.encrypt(t, other, "other")
	if err := env.shred.Destroy(ctx, env.record(t, doomed).Versions[0].Slot); err != nil {
		t.Fatal(err)
	}
	env = env.reopen(t) // the crash: an empty cache, the record still there
	_, err := env.svc.Decrypt(ctx, alice, kms.DecryptInput{CiphertextBlob: doomedBlob})
	var ke *kms.Error
	if err == nil || errors.As(err, &ke) || !errors.Is(err, kms.ErrShredded) {
		t.Fatalf("Decrypt with the destroyed slot: %v, want an internal error wrapping ErrShredded", err)
	}
	if _, err := env.svc.Encrypt(ctx, alice, kms.EncryptInput{KeyId: doomed, Plaintext: []byte("x")}); err == nil || errors.As(err, &ke) {
		t.Fatalf("Encrypt with the destroyed slot: %v, want an internal error", err)
	}
	if err := decryptsTo(ctx, env.svc, alice, otherBlob, nil, "other"); err != nil {
		t.Fatalf("the other key: %v", err)
	}
	if f := checkFindings(t, env.svc); len(f) != 1 || !strings.Contains(f[0], doomed) || !strings.Contains(f[0], "shred slot") {
		t.Fatalf("admin check: %q, want one finding naming the key and its slot", f)
	}
	if _, err := env.svc.ScheduleKeyDeletion(ctx, alice, doomed, 7); err != nil {
		t.Fatal(err)
	}
	env.clock.Add(8 * 24 * time.Hour)
	if err := env.svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := env.svc.DescribeKey(ctx, alice, doomed); err == nil {
		t.Fatal("the tick did not delete the key")
	}
}

// TestShredRestartKeepsKeys restarts the KMS: every key, rotated or imported, still
// decrypts what it encrypted, and the start-up sweep destroys no slot a key names but one
// that a crash left unnamed.
func TestShredRestartKeepsKeys(t *testing.T) {
	ctx := context.Background()
	env := openShredEnv(t, t.TempDir(), kmstest.NewClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)))
	rotated := env.createKey(t, kms.CreateKeyInput{})
	first := env.encrypt(t, rotated, "before rotation")
	if _, err := env.svc.RotateKeyOnDemand(ctx, alice, rotated); err != nil {
		t.Fatal(err)
	}
	second := env.encrypt(t, rotated, "after rotation")
	imported := env.createKey(t, kms.CreateKeyInput{Origin: kms.OriginExternal})
	env.importMaterial(t, imported, time.Time{})
	third := env.encrypt(t, imported, "imported")
	orphan, key, err := env.shred.New(ctx) // a crash before the record naming it committed
	if err != nil {
		t.Fatal(err)
	}
	clear(key)
	env = env.reopen(t)
	for _, c := range []struct {
		blob []byte
		want string
	}{{first, "before rotation"}, {second, "after rotation"}, {third, "imported"}} {
		if err := decryptsTo(ctx, env.svc, alice, c.blob, nil, c.want); err != nil {
			t.Fatalf("%s after a restart: %v", c.want, err)
		}
	}
	if _, err := env.shred.Key(ctx, orphan); !errors.Is(err, kms.ErrShredded) {
		t.Fatalf("the slot no record names after the sweep: %v, want ErrShredded", err)
	}
}

// TestShredSlotFileDamaged damages the slot file: the key whose slot is damaged or cut off
// fails with an internal error, never a wrong plaintext, and the other key serves.
func TestShredSlotFileDamaged(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		// damage damages the file; it returns which of the two keys (0 or 1) it broke.
		damage func(t *testing.T, path string, slots [2]uint32) int
	}{
		{"a byte of the first slot's sealed key flipped", func(t *testing.T, path string, slots [2]uint32) int {
			flipAt(t, path, 16+int64(slots[0]-1)*128+10)
			return 0
		}},
		{"the first slot marked free", func(t *testing.T, path string, slots [2]uint32) int {
			flipAt(t, path, 16+int64(slots[0]-1)*128)
			return 0
		}},
		{"the last slot cut short", func(t *testing.T, path string, slots [2]uint32) int {
			if err := os.Truncate(path, 16+int64(slots[1]-1)*128+40); err != nil {
				t.Fatal(err)
			}
			return 1
		}},
		{"the slots swapped", func(t *testing.T, path string, slots [2]uint32) int {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			a, c := 16+int(slots[0]-1)*128, 16+int(slots[1]-1)*128
			tmp := bytes.Clone(b[a : a+128])
			copy(b[a:a+128], b[c:c+128])
			copy(b[c:c+128], tmp)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return -1 // both
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := openShredEnv(t, t.TempDir(), kmstest.NewClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)))
			ids := [2]string{env.createKey(t, kms.CreateKeyInput{}), env.createKey(t, kms.CreateKeyInput{})}
			blobs := [2][]byte{env.encrypt(t, ids[0], "zero"), env.encrypt(t, ids[1], "one")}
			slots := [2]uint32{env.record(t, ids[0]).Versions[0].Slot, env.record(t, ids[1]).Versions[0].Slot}
			env.close()
			broken := tc.damage(t, env.slotsPath(), slots)
			env = openShredEnv(t, env.dir, env.clock)
			for i, want := range []string{"zero", "one"} {
				_, err := env.svc.Decrypt(ctx, alice, kms.DecryptInput{CiphertextBlob: blobs[i]})
				var ke *kms.Error
				if broken == i || broken == -1 {
					if err == nil || errors.As(err, &ke) {
						t.Fatalf("key %d with its slot damaged: %v, want an internal error", i, err)
					}
					continue
				}
				if err := decryptsTo(ctx, env.svc, alice, blobs[i], nil, want); err != nil {
					t.Fatalf("key %d whose slot is intact: %v", i, err)
				}
			}
		})
	}
}

func flipAt(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x01
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
