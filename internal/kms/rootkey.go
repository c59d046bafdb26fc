package kms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// RootKey seals key material before it is stored and opens it when it is loaded. FileRootKey
// implements it with an AES-256 key held in memory, read from a file or unwrapped by an HSM
// (SPEC.md §7); an external KMS could implement the same interface later.
type RootKey interface {
	// Seal encrypts material, binding it to aad, and returns the sealed bytes.
	Seal(ctx context.Context, material, aad []byte) ([]byte, error)
	// Open authenticates and decrypts sealed bytes made by Seal with the same aad.
	Open(ctx context.Context, sealed, aad []byte) ([]byte, error)
	// RecordMAC returns the 32-byte MAC of a canonical store record (SPEC.md §5) under a key
	// that only the root key yields, so that a changed record is detected when it is loaded.
	RecordMAC(ctx context.Context, record []byte) ([]byte, error)
}

// ErrSealedCorrupt is returned by Open when sealed material does not authenticate.
var ErrSealedCorrupt = errors.New("kms: sealed key material does not authenticate")

const (
	sealedVersion = 0x01
	sealedHeadLen = 4 + 1 + 12
)

var sealedMagic = [4]byte{'c', 'k', 's', 'm'}

// FileRootKey is a RootKey whose 32-byte AES-256 key is held in memory: read from a file of
// mode 0600 (OpenFileRootKey), or unwrapped by an HSM from a file that holds it wrapped
// (OpenWrappedRootKey).
type FileRootKey struct {
	aead cipher.AEAD
	// macKey is the record MAC key, HKDF-derived from the root key (SPEC.md §5.2).
	macKey []byte
}

var _ RootKey = (*FileRootKey)(nil)

// OpenFileRootKey loads the root key from path, generating 32 random bytes into a new file
// (mode 0600, parent directories 0700) when it does not exist. An existing file must hold
// exactly 32 bytes.
func OpenFileRootKey(path string) (*FileRootKey, error) {
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("kms: root key %s is not a regular file", path)
		}
		if st.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("kms: root key %s is accessible to others (mode %04o); chmod 600 it", path, st.Mode().Perm())
		}
	}
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createRootKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("kms: root key %s: %w", path, err)
	}
	defer clear(key) // best effort: the AES key schedule keeps its own copy
	if len(key) != 32 {
		return nil, fmt.Errorf("kms: root key %s: want 32 bytes, file has %d", path, len(key))
	}
	return newFileRootKey(key)
}

func newFileRootKey(key []byte) (*FileRootKey, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	macKey, err := hkdf.Key(sha256.New, key, nil, recordMACLabel, 32)
	if err != nil {
		return nil, err
	}
	return &FileRootKey{aead: aead, macKey: macKey}, nil
}

// recordMACLabel is the HKDF info that derives the record MAC key from the root key; no other
// use of the root key derives with it (SPEC.md §5.2).
const recordMACLabel = "coffer kms record mac v1"

func createRootKeyFile(path string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := writeNewFile(path, key); err != nil {
		return nil, err
	}
	return key, nil
}

// writeNewFile writes data to a new file of mode 0600 (parent directories 0700) and syncs it
// and its directory. O_EXCL: two processes starting at once must not each write a different
// key.
func writeNewFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncParent(path)
}

// syncParent syncs the directory of path, so that a new or removed entry outlives a crash.
func syncParent(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Seal implements RootKey (SPEC.md §2).
func (k *FileRootKey) Seal(_ context.Context, material, aad []byte) ([]byte, error) {
	out := make([]byte, sealedHeadLen, sealedHeadLen+len(material)+16)
	copy(out, sealedMagic[:])
	out[4] = sealedVersion
	if _, err := rand.Read(out[5:17]); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, out[5:17], material, aad), nil
}

// Open implements RootKey.
func (k *FileRootKey) Open(_ context.Context, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < sealedHeadLen+16 || [4]byte(sealed[0:4]) != sealedMagic || sealed[4] != sealedVersion {
		return nil, ErrSealedCorrupt
	}
	pt, err := k.aead.Open(nil, sealed[5:17], sealed[sealedHeadLen:], aad)
	if err != nil {
		return nil, ErrSealedCorrupt
	}
	return pt, nil
}

// RecordMAC implements RootKey: HMAC-SHA256 under the derived record MAC key (SPEC.md §5.2).
func (k *FileRootKey) RecordMAC(_ context.Context, record []byte) ([]byte, error) {
	m := hmac.New(sha256.New, k.macKey)
	m.Write(record)
	return m.Sum(nil), nil
}

// sealAAD binds a sealed material to its key id and version (SPEC.md §2), in a record of the
// current format: the label says the record is MACed (§5.4), so that material cannot be
// passed off as part of a record from before record MACs.
func sealAAD(keyID string, version uint32) []byte {
	return sealAADLabel(sealLabel, keyID, version)
}

// sealAADFormat1 is sealAAD of a record from before record MACs (format 1, SPEC.md §5.4).
func sealAADFormat1(keyID string, version uint32) []byte {
	return sealAADLabel(sealLabelFormat1, keyID, version)
}

const (
	sealLabel        = "coffer kms sealed v2"
	sealLabelFormat1 = "coffer kms sealed v1"
)

func sealAADLabel(label, keyID string, version uint32) []byte {
	b := make([]byte, 0, 32+len(keyID))
	b = append(b, label...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(keyID)))
	b = append(b, keyID...)
	return binary.BigEndian.AppendUint32(b, version)
}
