//go:build cgo

package pkcs11hsm_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/coffer/coffer/internal/kms/pkcs11hsm"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm/softhsmtest"
	"github.com/miekg/pkcs11"
)

// hsmVector is testdata/hsm_blob_vector.json: a ciphertext blob of a key in a custom key store
// (internal/kms/SPEC.md §6.2) under a known AES-256 key.
type hsmVector struct {
	Key, KeyID, Seed, Plaintext, Blob string
	Version                           uint32
	Context                           map[string]string
}

// TestHSMBlobVector checks the blob of SPEC.md §6.2 twice: computed with crypto/cipher from
// its definition, and sealed by SoftHSM2 through Seal with the vector's key imported into a
// token; both must equal the stored vector, and Open must return the plaintext.
func TestHSMBlobVector(t *testing.T) {
	raw, err := os.ReadFile("../testdata/hsm_blob_vector.json")
	if err != nil {
		t.Fatal(err)
	}
	var v hsmVector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	key, _ := hex.DecodeString(v.Key)
	keyID, _ := hex.DecodeString(v.KeyID)
	seed, _ := hex.DecodeString(v.Seed)
	want, _ := hex.DecodeString(v.Blob)
	if len(key) != 32 || len(keyID) != 16 || len(seed) != 16 || len(want) == 0 {
		t.Fatal("the vector did not load")
	}
	head := append([]byte("ckms\x01"), keyID...)
	head = binary.BigEndian.AppendUint32(head, v.Version)
	head = append(head, seed...)
	aad := append(bytes.Clone(head), 0, 0, 0, byte(len(v.Context)))
	for _, k := range []string{"purpose"} { // the vector's one pair
		aad = binary.BigEndian.AppendUint32(aad, uint32(len(k)))
		aad = append(aad, k...)
		aad = binary.BigEndian.AppendUint32(aad, uint32(len(v.Context[k])))
		aad = append(aad, v.Context[k]...)
	}

	t.Run("crypto/cipher", func(t *testing.T) {
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		got := gcm.Seal(bytes.Clone(head), seed[:12], []byte(v.Plaintext), aad)
		if !bytes.Equal(got, want) {
			t.Fatalf("blob = %x\nwant   %x", got, want)
		}
	})
	t.Run("SoftHSM2", func(t *testing.T) {
		cfg := softhsmtest.Token(t, "cluster-vector00001", "vector")
		importKey(t, cfg, "vector-key", key)
		tok := login(t, cfg)
		sealed, err := tok.Seal(context.Background(), "vector-key", seed[:12], aad, []byte(v.Plaintext))
		if err != nil {
			t.Fatal(err)
		}
		if got := append(bytes.Clone(head), sealed...); !bytes.Equal(got, want) {
			t.Fatalf("blob = %x\nwant   %x", got, want)
		}
		pt, err := tok.Open(context.Background(), "vector-key", seed[:12], aad, want[len(head):])
		if err != nil || string(pt) != v.Plaintext {
			t.Fatalf("Open = %q, %v", pt, err)
		}
	})
}

// importKey puts a known AES key on the token, as no key Coffer generates can be read back.
func importKey(t *testing.T, cfg pkcs11hsm.Config, label string, key []byte) {
	p, sess := softhsmtest.Session(t, cfg)
	_, err := p.CreateObject(sess, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, key),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
	})
	if err != nil {
		t.Fatal(err)
	}
}
