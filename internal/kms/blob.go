package kms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"sort"
)

// Blob format constants; see SPEC.md §1.
const (
	blobVersion    = 0x01
	blobHeaderLen  = 4 + 1 + 16 + 4 + 16
	blobMinLen     = blobHeaderLen + 16
	blobMaxLen     = 6144
	blobSeedLen    = 16
	maxContextSize = 8192
)

var blobMagic = [4]byte{'c', 'k', 'm', 's'}

// errBadBlob is the one opaque error for any blob that does not parse or open.
var errBadBlob = errors.New("kms: invalid ciphertext")

// blobHeader is the readable part of a ciphertext blob.
type blobHeader struct {
	KeyID   [16]byte
	Version uint32
	Seed    [blobSeedLen]byte
}

func (h *blobHeader) marshal() []byte {
	b := make([]byte, blobHeaderLen)
	copy(b, blobMagic[:])
	b[4] = blobVersion
	copy(b[5:21], h.KeyID[:])
	binary.BigEndian.PutUint32(b[21:25], h.Version)
	copy(b[25:41], h.Seed[:])
	return b
}

// parseBlob splits a blob into its header and sealed part. It is strict: wrong magic, an
// unknown version, a zero key version or a length out of range are all errBadBlob.
func parseBlob(b []byte) (blobHeader, []byte, error) {
	var h blobHeader
	if len(b) < blobMinLen || len(b) > blobMaxLen {
		return h, nil, errBadBlob
	}
	if [4]byte(b[0:4]) != blobMagic || b[4] != blobVersion {
		return h, nil, errBadBlob
	}
	copy(h.KeyID[:], b[5:21])
	h.Version = binary.BigEndian.Uint32(b[21:25])
	if h.Version == 0 {
		return h, nil, errBadBlob
	}
	copy(h.Seed[:], b[25:41])
	return h, b[blobHeaderLen:], nil
}

// canonicalContext encodes an encryption context unambiguously (SPEC.md §1).
func canonicalContext(ctx map[string]string) ([]byte, error) {
	keys := make([]string, 0, len(ctx))
	size := 4
	for k, v := range ctx {
		keys = append(keys, k)
		size += 8 + len(k) + len(v)
	}
	if size > maxContextSize {
		return nil, errContextTooLarge
	}
	sort.Strings(keys)
	out := make([]byte, 0, size)
	out = binary.BigEndian.AppendUint32(out, uint32(len(keys)))
	for _, k := range keys {
		v := ctx[k]
		out = binary.BigEndian.AppendUint32(out, uint32(len(k)))
		out = append(out, k...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(v)))
		out = append(out, v...)
	}
	return out, nil
}

var errContextTooLarge = errors.New("kms: encryption context too large")

// blobPRK is HKDF-Extract of material (no salt): the first half of the HKDF that derives every
// blob's key, the same for all blobs under the material, so it is kept with it (material.blobPRK).
func blobPRK(material []byte) ([]byte, error) {
	return hkdf.Extract(sha256.New, material, nil)
}

// blobAEAD derives the single-use AES-256-GCM key and nonce of one blob from the material's
// blobPRK: HKDF-Expand of the seed, which with blobPRK is HKDF-SHA256(material, no salt, info).
func blobAEAD(prk []byte, seed []byte) (cipher.AEAD, []byte, error) {
	info := make([]byte, 0, 18+len(seed))
	info = append(info, "coffer kms blob v1"...)
	info = append(info, seed...)
	okm, err := hkdf.Expand(sha256.New, prk, string(info), 44)
	if err != nil {
		return nil, nil, err
	}
	defer clear(okm) // best effort: the AES schedule keeps its own copy
	block, err := aes.NewCipher(okm[:32])
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	nonce := make([]byte, 12)
	copy(nonce, okm[32:44])
	return aead, nonce, nil
}

// sealBlob encrypts plaintext under material with header h and encryption context ctx.
func sealBlob(material []byte, h blobHeader, ctx []byte, plaintext []byte) ([]byte, error) {
	prk, err := blobPRK(material)
	if err != nil {
		return nil, err
	}
	defer clear(prk)
	return sealBlobPRK(prk, h, ctx, plaintext)
}

// sealBlobPRK is sealBlob under the material's blobPRK.
func sealBlobPRK(prk []byte, h blobHeader, ctx []byte, plaintext []byte) ([]byte, error) {
	head := h.marshal()
	aead, nonce, err := blobAEAD(prk, h.Seed[:])
	if err != nil {
		return nil, err
	}
	aad := append(head[:len(head):len(head)], ctx...)
	out := make([]byte, blobHeaderLen, blobHeaderLen+len(plaintext)+16)
	copy(out, head)
	return aead.Seal(out, nonce, plaintext, aad), nil
}

// openBlob authenticates and decrypts the sealed part of a parsed blob.
func openBlob(material []byte, h blobHeader, sealed []byte, ctx []byte) ([]byte, error) {
	prk, err := blobPRK(material)
	if err != nil {
		return nil, errBadBlob
	}
	defer clear(prk)
	return openBlobPRK(prk, h, sealed, ctx)
}

// openBlobPRK is openBlob under the material's blobPRK.
func openBlobPRK(prk []byte, h blobHeader, sealed []byte, ctx []byte) ([]byte, error) {
	head := h.marshal()
	aead, nonce, err := blobAEAD(prk, h.Seed[:])
	if err != nil {
		return nil, errBadBlob
	}
	aad := append(head, ctx...)
	pt, err := aead.Open(nil, nonce, sealed, aad)
	if err != nil {
		return nil, errBadBlob
	}
	return pt, nil
}
