package sse

import (
	"bytes"
	"os"
	"testing"

	"github.com/coffer/coffer/internal/fuzzseed"
)

// The seed corpora under testdata/fuzz are made by `go run ./cmd/ssevectors`.

// FuzzReader decrypts arbitrary bytes as a stream of the "object" vector key and the single
// identity. Properties: only ErrAuth ever comes out; a stream that decrypts is exactly the
// encryption of its plaintext under its own salt (non-malleable); ranges agree with the whole.
func FuzzReader(f *testing.F) {
	fuzzseed.Require(f)
	m, keys := loadVectors(f)
	key, id := keys["object"], Identity{Bucket: "vectors", Key: "objects/single"}
	for _, v := range m.Streams {
		if v.File != "" && v.ObjectKey == "object" && v.CiphertextSize < 2000 {
			ct, err := os.ReadFile("testdata/" + v.File)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(ct, uint16(1), uint16(7))
		}
	}
	f.Fuzz(func(t *testing.T, ct []byte, off, n uint16) {
		r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key, id)
		if err != nil {
			if err != ErrAuth {
				t.Fatalf("NewReader = %v, want ErrAuth", err)
			}
			return
		}
		plain, err := decryptAll(ct, key, id)
		if err != nil {
			if err != ErrAuth {
				t.Fatalf("decrypt = %v, want ErrAuth", err)
			}
			return
		}
		if again := encryptWithSalt(t, plain, key, id, ct[8:HeaderSize]); !bytes.Equal(again, ct) {
			t.Fatal("a ciphertext other than the encryption of its plaintext decrypted")
		}
		a := min(int64(off), r.Size())
		b := min(a+int64(n), r.Size())
		got := make([]byte, b-a)
		if _, err := r.ReadAt(got, a); err != nil || !bytes.Equal(got, plain[a:b]) {
			t.Fatalf("ReadAt(%d, %d) = %v or wrong bytes", a, b-a, err)
		}
	})
}

// FuzzParseSealedKey parses arbitrary bytes as a sealed key. Properties: parse errors are ErrAuth;
// a parsed key re-encodes to the same bytes; a key that unseals is exactly the sealing of what it
// unsealed to under its own salt.
func FuzzParseSealedKey(f *testing.F) {
	fuzzseed.Require(f)
	m, keys := loadVectors(f)
	for _, v := range m.Sealed {
		f.Add(mustHex(f, v.Sealed))
	}
	keks := map[Mode]string{ModeSSES3: "master", ModeSSEKMS: "kms-data-key", ModeSSEC: "customer"}
	id := Identity{Bucket: "vectors", Key: "objects/single"}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSealedKey(b)
		if err != nil {
			if err != ErrAuth {
				t.Fatalf("ParseSealedKey = %v, want ErrAuth", err)
			}
			return
		}
		if !bytes.Equal(s.Bytes(), b) {
			t.Fatal("parsed key does not re-encode to its input")
		}
		kek := keys[keks[s.Mode()]]
		objectKey, err := s.Unseal(kek, s.Mode(), id)
		if err != nil {
			if err != ErrAuth && err != ErrWrongKey {
				t.Fatalf("Unseal = %v", err)
			}
			return
		}
		again, err := SealKeyWithRand(kek, objectKey, s.Mode(), id, bytes.NewReader(b[sealSaltOff:sealCheckOff]))
		if err != nil || !bytes.Equal(again.Bytes(), b) {
			t.Fatalf("a sealed key other than the sealing of its key opened (%v)", err)
		}
	})
}
