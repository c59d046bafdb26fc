package kms_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer/coffer/internal/kms"
	bolt "go.etcd.io/bbolt"
)

// BenchmarkGenerateDataKeyShredded compares GenerateDataKey with material sealed by the root
// key alone and under a shred key (SPEC.md §8): the unsealed material is cached either way,
// so they should not differ. "first use" measures the cold path (a key's material opened on
// its first use after a start), where the shred layer adds a slot read and an AES-GCM open.
func BenchmarkGenerateDataKeyShredded(b *testing.B) {
	// open returns a KMS with one key, its database and its settings.
	open := func(b *testing.B, shredded bool) (*kms.Service, *bolt.DB, kms.Config, string) {
		dir := b.TempDir()
		db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		var c kms.Config
		if shredded {
			if err := os.MkdirAll(filepath.Join(dir, "kms"), 0o700); err != nil {
				b.Fatal(err)
			}
			root, err := kms.OpenFileRootKey(filepath.Join(dir, "kms", "root.key"))
			if err != nil {
				b.Fatal(err)
			}
			sh, err := kms.OpenFileShredder(filepath.Join(dir, "kms", "shred.slots"), root)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { sh.Close() })
			c.Shredder = sh
		}
		s := svcOnDB(b, db, dir, c)
		m, err := s.CreateKey(b.Context(), alice, kms.CreateKeyInput{})
		if err != nil {
			b.Fatal(err)
		}
		return s, db, c, m.KeyId
	}
	for _, shredded := range []bool{false, true} {
		name := map[bool]string{false: "root key only", true: "shredded"}[shredded]
		b.Run(name, func(b *testing.B) {
			s, db, _, id := open(b, shredded)
			defer db.Close()
			for b.Loop() {
				out, err := s.GenerateDataKey(b.Context(), alice, kms.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256"})
				if err != nil {
					b.Fatal(err)
				}
				clear(out.Plaintext)
			}
		})
		b.Run(name+"/first use", func(b *testing.B) {
			s, db, c, id := open(b, shredded)
			defer db.Close()
			blob, err := s.Encrypt(b.Context(), alice, kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				b.StopTimer()
				fresh := svcOnDB(b, db, filepath.Dir(db.Path()), c) // an empty cache
				b.StartTimer()
				if _, err := fresh.Decrypt(b.Context(), alice, kms.DecryptInput{CiphertextBlob: blob.CiphertextBlob}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
