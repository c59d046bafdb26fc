package sse

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"

	"github.com/coffer/coffer/internal/secret"
)

const (
	// SaltSize is the length of the random per-stream salt in the stream header.
	SaltSize = 24

	version1   = 0x01
	nonceSize  = 12
	aadSize    = 44
	finalFlag  = 0x01
	maxPackets = 1 << 32 // package indices are < 2^32 (SPEC.md 2.2)

	labelStreamKey = "coffer/sse/v1/stream"
	labelStreamCtx = "coffer/sse/v1/stream-context"
)

// streamMagic opens every stream header.
var streamMagic = [4]byte{'C', 'f', 'S', 't'}

// ErrAuth is the one error for every ciphertext that does not authenticate: a flipped bit, a
// truncated, extended or reordered stream, a wrong identity, part number or key, an unknown
// version, a malformed header or sealed key. It deliberately says no more.
var ErrAuth = errors.New("sse: message authentication failed")

// ErrNoKey is returned when an operation is given the zero secret.Key.
var ErrNoKey = errors.New("sse: no key given")

// streamCipher holds the per-stream AEAD and the nonce and AAD buffers that are rewritten in place
// for each package, so sealing and opening packages allocates nothing.
type streamCipher struct {
	aead  cipher.AEAD
	nonce [nonceSize]byte
	aad   [aadSize]byte
}

// newHeader returns a version-1 header carrying salt.
func newHeader(salt *[SaltSize]byte) [HeaderSize]byte {
	var h [HeaderSize]byte
	copy(h[:4], streamMagic[:])
	h[4] = version1
	copy(h[8:], salt[:])
	return h
}

// checkHeader applies the strict header rules of SPEC.md 2.6.
func checkHeader(h *[HeaderSize]byte) error {
	if [4]byte(h[:4]) != streamMagic || h[4] != version1 || h[5] != 0 || h[6] != 0 || h[7] != 0 {
		return ErrAuth
	}
	return nil
}

// init derives the stream key and context of SPEC.md 2.3 and 2.5 from a checked header.
func (s *streamCipher) init(objectKey secret.Key, id Identity, h *[HeaderSize]byte) error {
	info := binary.BigEndian.AppendUint16([]byte(labelStreamKey), uint16(id.PartNumber))
	k, err := hkdf.Key(sha256.New, objectKey.RevealBytes(), h[8:], string(info), 32)
	if err != nil {
		return err
	}
	defer clear(k) // best effort; the AES key schedule below cannot be cleared
	block, err := aes.NewCipher(k)
	if err != nil {
		return err
	}
	if s.aead, err = cipher.NewGCM(block); err != nil {
		return err
	}
	ctx := sha256.New()
	ctx.Write([]byte(labelStreamCtx))
	ctx.Write(h[:])
	ctx.Write(id.appendEncoding(nil))
	s.aad[0] = version1
	ctx.Sum(s.aad[12:12])
	return nil
}

// setPackage writes index i and the final flag into the nonce and the AAD.
func (s *streamCipher) setPackage(i uint64, final bool) {
	var f byte
	if final {
		f = finalFlag
	}
	binary.BigEndian.PutUint64(s.nonce[3:11], i)
	s.nonce[11] = f
	s.aad[1] = f
	binary.BigEndian.PutUint64(s.aad[4:12], i)
}

// seal encrypts buf[:n] in place as package i and returns the package (n+TagSize bytes of buf).
func (s *streamCipher) seal(buf []byte, n int, i uint64, final bool) []byte {
	s.setPackage(i, final)
	return s.aead.Seal(buf[:0], s.nonce[:], buf[:n], s.aad[:])
}

// open decrypts the package in buf in place as package i and returns its plaintext.
func (s *streamCipher) open(buf []byte, i uint64, final bool) ([]byte, error) {
	s.setPackage(i, final)
	p, err := s.aead.Open(buf[:0], s.nonce[:], buf, s.aad[:])
	if err != nil {
		return nil, ErrAuth
	}
	return p, nil
}
