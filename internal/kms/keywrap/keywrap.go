// Package keywrap implements AES Key Wrap with Padding (RFC 5649), which AWS KMS uses in the
// RSA_AES_KEY_WRAP_SHA_* import wrapping algorithms.
package keywrap

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// ErrUnwrap is the one error for any wrapped key that does not authenticate or parse.
var ErrUnwrap = errors.New("keywrap: unwrap failed")

// aivPrefix is RFC 5649's alternative initial value constant.
var aivPrefix = [4]byte{0xA6, 0x59, 0x59, 0xA6}

// Wrap wraps plaintext (1 to 2^32-1 bytes) under kek (16, 24 or 32 bytes).
func Wrap(kek, plaintext []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(plaintext) == 0 || uint64(len(plaintext)) > 0xFFFFFFFF {
		return nil, errors.New("keywrap: plaintext length out of range")
	}
	var aiv [8]byte
	copy(aiv[:4], aivPrefix[:])
	binary.BigEndian.PutUint32(aiv[4:], uint32(len(plaintext)))
	padded := make([]byte, (len(plaintext)+7)/8*8)
	copy(padded, plaintext)
	defer clear(padded)
	if len(padded) == 8 {
		out := make([]byte, 16)
		copy(out, aiv[:])
		copy(out[8:], padded)
		block.Encrypt(out, out)
		return out, nil
	}
	return wrap(block, aiv, padded), nil
}

// wrap is RFC 3394's W with initial value a over n >= 2 64-bit blocks.
func wrap(block cipher.Block, a [8]byte, p []byte) []byte {
	n := len(p) / 8
	out := make([]byte, 8+len(p))
	r := out[8:]
	copy(r, p)
	var b [16]byte
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			copy(b[:8], a[:])
			copy(b[8:], r[(i-1)*8:i*8])
			block.Encrypt(b[:], b[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a[:], binary.BigEndian.Uint64(b[:8])^t)
			copy(r[(i-1)*8:i*8], b[8:])
		}
	}
	copy(out[:8], a[:])
	return out
}

// Unwrap reverses Wrap, checking the integrity value and the padding.
func Unwrap(kek, wrapped []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(wrapped) < 16 || len(wrapped)%8 != 0 {
		return nil, ErrUnwrap
	}
	var a [8]byte
	var p []byte
	if len(wrapped) == 16 {
		var b [16]byte
		block.Decrypt(b[:], wrapped)
		copy(a[:], b[:8])
		p = append([]byte(nil), b[8:]...)
		clear(b[:])
	} else {
		a, p = unwrap(block, wrapped)
	}
	ok := subtle.ConstantTimeCompare(a[:4], aivPrefix[:])
	m := int(binary.BigEndian.Uint32(a[4:]))
	n := len(p) / 8
	if ok != 1 || m <= 8*(n-1) || m > 8*n {
		clear(p)
		return nil, ErrUnwrap
	}
	var pad byte
	for _, c := range p[m:] {
		pad |= c
	}
	if pad != 0 {
		clear(p)
		return nil, ErrUnwrap
	}
	return p[:m], nil
}

// unwrap is RFC 3394's W⁻¹, returning the recovered initial value and the blocks.
func unwrap(block cipher.Block, c []byte) ([8]byte, []byte) {
	var a [8]byte
	copy(a[:], c[:8])
	n := len(c)/8 - 1
	r := append([]byte(nil), c[8:]...)
	var b [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(a[:])^t)
			copy(b[8:], r[(i-1)*8:i*8])
			block.Decrypt(b[:], b[:])
			copy(a[:], b[:8])
			copy(r[(i-1)*8:i*8], b[8:])
		}
	}
	clear(b[:])
	return a, r
}
