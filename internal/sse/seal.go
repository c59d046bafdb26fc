package sse

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/coffer/coffer/internal/secret"
)

// Mode is the server-side encryption mode a sealed key belongs to; it selects what the
// key-encryption key (KEK) is.
type Mode byte

// The modes of SPEC.md 3.1.
const (
	// ModeSSES3: the KEK is the server's master key.
	ModeSSES3 Mode = 0x01
	// ModeSSEKMS: the KEK is the plaintext data key from the KMS.
	ModeSSEKMS Mode = 0x02
	// ModeSSEC: the KEK is the customer's key, which is never stored.
	ModeSSEC Mode = 0x03
)

// String names the mode as S3 documentation does.
func (m Mode) String() string {
	switch m {
	case ModeSSES3:
		return "SSE-S3"
	case ModeSSEKMS:
		return "SSE-KMS"
	case ModeSSEC:
		return "SSE-C"
	}
	return fmt.Sprintf("Mode(%d)", byte(m))
}

// SealedKeySize is the fixed length of a sealed key.
const SealedKeySize = 120

const (
	sealHeaderSize = 72 // magic, version, mode, reserved, salt, check: the part bound as AAD
	sealSaltOff    = 8
	sealCheckOff   = 40
	labelSeal      = "coffer/sse/v1/seal"
	labelCheck     = "coffer/sse/v1/ssec-check"
)

// sealMagic opens every sealed key.
var sealMagic = [4]byte{'C', 'f', 'K', 'y'}

// ErrWrongKey means an SSE-C customer key is not the one the object was written with (S3 answers
// 403 AccessDenied). Tampering is ErrAuth, not ErrWrongKey.
var ErrWrongKey = errors.New("sse: wrong customer key")

// SealedKey is a parsed sealed object key (SPEC.md section 3). It holds no secret in the clear
// and may be stored and printed freely.
type SealedKey struct {
	raw [SealedKeySize]byte
}

// ParseSealedKey strictly parses b: exactly SealedKeySize bytes, the magic, version 1, a known
// mode, zero reserved bytes, and a zero check field unless the mode is SSE-C. Anything else is
// ErrAuth.
func ParseSealedKey(b []byte) (SealedKey, error) {
	if len(b) != SealedKeySize || [4]byte(b[:4]) != sealMagic || b[4] != version1 || b[6] != 0 || b[7] != 0 {
		return SealedKey{}, ErrAuth
	}
	switch Mode(b[5]) {
	case ModeSSES3, ModeSSEKMS:
		for _, c := range b[sealCheckOff:sealHeaderSize] {
			if c != 0 {
				return SealedKey{}, ErrAuth
			}
		}
	case ModeSSEC:
	default:
		return SealedKey{}, ErrAuth
	}
	return SealedKey{raw: [SealedKeySize]byte(b)}, nil
}

// Bytes returns the encoded sealed key, SealedKeySize bytes.
func (s SealedKey) Bytes() []byte { return append([]byte(nil), s.raw[:]...) }

// Mode returns the mode the key was sealed for.
func (s SealedKey) Mode() Mode { return Mode(s.raw[5]) }

// SealKey seals objectKey under kek for the object id in the given mode, with a fresh salt from
// crypto/rand. For ModeSSEC, kek is the customer key. id.PartNumber must be 0.
func SealKey(kek, objectKey secret.Key, mode Mode, id Identity) (SealedKey, error) {
	return SealKeyWithRand(kek, objectKey, mode, id, rand.Reader)
}

// SealKeyWithRand is SealKey with the salt read from rnd; it exists for deterministic test
// vectors only.
func SealKeyWithRand(kek, objectKey secret.Key, mode Mode, id Identity, rnd io.Reader) (SealedKey, error) {
	if kek.IsZero() || objectKey.IsZero() {
		return SealedKey{}, ErrNoKey
	}
	if err := checkSealArgs(mode, id); err != nil {
		return SealedKey{}, err
	}
	var s SealedKey
	copy(s.raw[:4], sealMagic[:])
	s.raw[4] = version1
	s.raw[5] = byte(mode)
	if _, err := io.ReadFull(rnd, s.raw[sealSaltOff:sealCheckOff]); err != nil {
		return SealedKey{}, fmt.Errorf("sse: reading salt: %w", err)
	}
	if mode == ModeSSEC {
		sum := customerCheck(kek, s.raw[sealSaltOff:sealCheckOff])
		copy(s.raw[sealCheckOff:sealHeaderSize], sum[:])
	}
	aead, err := sealAEAD(kek, &s)
	if err != nil {
		return SealedKey{}, err
	}
	aead.Seal(s.raw[sealHeaderSize:sealHeaderSize], make([]byte, nonceSize), objectKey.RevealBytes(), sealAAD(&s, id))
	return s, nil
}

// UnsealKey parses sealed and unseals it; see SealedKey.Unseal.
func UnsealKey(sealed []byte, kek secret.Key, mode Mode, id Identity) (secret.Key, error) {
	s, err := ParseSealedKey(sealed)
	if err != nil {
		return secret.Key{}, err
	}
	return s.Unseal(kek, mode, id)
}

// Unseal returns the object key, given the KEK (for ModeSSEC the customer key), the mode the
// caller expects and the object identity. A wrong customer key is ErrWrongKey; every other failure
// (tampering, wrong mode, wrong identity, a wrong server-side KEK) is ErrAuth.
func (s SealedKey) Unseal(kek secret.Key, mode Mode, id Identity) (secret.Key, error) {
	if kek.IsZero() {
		return secret.Key{}, ErrNoKey
	}
	if err := checkSealArgs(mode, id); err != nil {
		return secret.Key{}, err
	}
	if s.Mode() != mode {
		return secret.Key{}, ErrAuth
	}
	if mode == ModeSSEC {
		if err := s.CheckCustomerKey(kek); err != nil {
			return secret.Key{}, err
		}
	}
	aead, err := sealAEAD(kek, &s)
	if err != nil {
		return secret.Key{}, err
	}
	var buf [secret.KeySize + TagSize]byte
	p, err := aead.Open(buf[:0], make([]byte, nonceSize), s.raw[sealHeaderSize:], sealAAD(&s, id))
	if err != nil {
		return secret.Key{}, ErrAuth
	}
	defer clear(buf[:])
	return secret.FromBytes(p)
}

// CheckCustomerKey reports whether customerKey is the key an SSE-C sealed key was made with
// (nil) or not (ErrWrongKey), in constant time and without decrypting anything. S3 uses it to
// check the key sent with every UploadPart of an SSE-C upload. For other modes it is ErrAuth.
func (s SealedKey) CheckCustomerKey(customerKey secret.Key) error {
	if s.Mode() != ModeSSEC {
		return ErrAuth
	}
	if customerKey.IsZero() {
		return ErrNoKey
	}
	sum := customerCheck(customerKey, s.raw[sealSaltOff:sealCheckOff])
	if !hmac.Equal(sum[:], s.raw[sealCheckOff:sealHeaderSize]) {
		return ErrWrongKey
	}
	return nil
}

// customerCheck returns HMAC(customerKey, labelCheck || salt).
func customerCheck(customerKey secret.Key, salt []byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, customerKey.RevealBytes())
	m.Write([]byte(labelCheck))
	m.Write(salt)
	return [sha256.Size]byte(m.Sum(nil))
}

// sealAEAD derives the single-use sealing key of SPEC.md 3.1 for s.
func sealAEAD(kek secret.Key, s *SealedKey) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, kek.RevealBytes(), s.raw[sealSaltOff:sealCheckOff], labelSeal+string([]byte{s.raw[5]}), 32)
	if err != nil {
		return nil, err
	}
	defer clear(k) // best effort: the AES key schedule cannot be cleared
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealAAD returns the header of s followed by the identity encoding.
func sealAAD(s *SealedKey, id Identity) []byte {
	return id.appendEncoding(append(make([]byte, 0, 256), s.raw[:sealHeaderSize]...))
}

// checkSealArgs rejects unknown modes and identities of parts.
func checkSealArgs(mode Mode, id Identity) error {
	if mode != ModeSSES3 && mode != ModeSSEKMS && mode != ModeSSEC {
		return fmt.Errorf("sse: unknown mode %d", mode)
	}
	if err := id.validate(); err != nil {
		return err
	}
	if id.PartNumber != 0 {
		return fmt.Errorf("%w: a sealed key belongs to the object, not a part", ErrInvalidIdentity)
	}
	return nil
}
