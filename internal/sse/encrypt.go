package sse

import (
	"crypto/rand"
	"fmt"
	"io"

	"github.com/coffer/coffer/internal/secret"
)

// EncryptReader turns a plaintext io.Reader into the ciphertext stream of SPEC.md section 2. It
// holds at most one package in memory and allocates nothing per package. It is not safe for concurrent
// use.
type EncryptReader struct {
	src    io.Reader
	sc     streamCipher
	header [HeaderSize]byte
	buf    []byte // one package: plaintext, then sealed in place; allocated on first need
	out    []byte // bytes of header or buf not yet returned
	index  uint64 // index of the next package to seal
	done   bool   // the final package has been sealed
	err    error  // sticky error of src or of the size limit
}

var _ io.WriterTo = (*EncryptReader)(nil)

// NewEncryptReader returns a reader of the encryption of everything src yields, under objectKey,
// for the object or part named by id, with a fresh random salt from crypto/rand.
func NewEncryptReader(src io.Reader, objectKey secret.Key, id Identity) (*EncryptReader, error) {
	return NewEncryptReaderWithRand(src, objectKey, id, rand.Reader)
}

// NewEncryptReaderWithRand is NewEncryptReader with the salt read from rnd. It exists for the
// deterministic test vectors of cmd/ssevectors: a salt used twice with the same object key and
// part number reuses nonces and destroys confidentiality, so production code must not use it.
func NewEncryptReaderWithRand(src io.Reader, objectKey secret.Key, id Identity, rnd io.Reader) (*EncryptReader, error) {
	if objectKey.IsZero() {
		return nil, ErrNoKey
	}
	if err := id.validate(); err != nil {
		return nil, err
	}
	var salt [SaltSize]byte
	if _, err := io.ReadFull(rnd, salt[:]); err != nil {
		return nil, fmt.Errorf("sse: reading salt: %w", err)
	}
	e := &EncryptReader{src: src, header: newHeader(&salt)}
	if err := e.sc.init(objectKey, id, &e.header); err != nil {
		return nil, err
	}
	e.out = e.header[:]
	return e, nil
}

// EncryptBytes returns the ciphertext stream of plaintext under objectKey for id, with a fresh
// random salt: the bytes an EncryptReader would yield, sealed straight into one buffer of
// CiphertextSize bytes. It is for data held whole anyway, such as an object small enough to be
// kept in its metadata record; streams go through EncryptReader.
func EncryptBytes(plaintext []byte, objectKey secret.Key, id Identity) ([]byte, error) {
	return encryptBytes(plaintext, objectKey, id, rand.Reader)
}

func encryptBytes(plaintext []byte, objectKey secret.Key, id Identity, rnd io.Reader) ([]byte, error) {
	if objectKey.IsZero() {
		return nil, ErrNoKey
	}
	if err := id.validate(); err != nil {
		return nil, err
	}
	size, err := CiphertextSize(int64(len(plaintext)))
	if err != nil {
		return nil, err
	}
	var salt [SaltSize]byte
	if _, err := io.ReadFull(rnd, salt[:]); err != nil {
		return nil, fmt.Errorf("sse: reading salt: %w", err)
	}
	h := newHeader(&salt)
	var sc streamCipher
	if err := sc.init(objectKey, id, &h); err != nil {
		return nil, err
	}
	out := append(make([]byte, 0, size), h[:]...)
	for i := uint64(0); ; i++ {
		chunk := plaintext[:min(len(plaintext), PackageSize)]
		plaintext = plaintext[len(chunk):]
		final := len(chunk) < PackageSize // the short package is the final one (SPEC.md 2.1)
		sc.setPackage(i, final)
		out = sc.aead.Seal(out, sc.nonce[:], chunk, sc.aad[:])
		if final {
			return out, nil
		}
	}
}

// Read reads ciphertext. It returns io.EOF after the final package, and the error of the source
// (wrapped) if the source fails; in that case the ciphertext so far is incomplete and must be
// discarded. A p with room for a whole package gets packages sealed in place in p, read from the
// source straight into it, so a caller reading in large buffers (a blob store writing a file)
// costs no copy beyond the source's own.
func (e *EncryptReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(e.out) > 0 {
			c := copy(p[n:], e.out)
			e.out = e.out[c:]
			n += c
			continue
		}
		var err error
		if len(p)-n >= cipherPackageSize {
			var pkg []byte
			if pkg, err = e.seal(p[n : n+cipherPackageSize]); err == nil {
				n += len(pkg)
				continue
			}
		} else if n > 0 {
			break // the rest of p cannot hold a package: leave it for the next call
		} else if err = e.next(); err == nil {
			continue
		}
		if n > 0 {
			break // the error (or io.EOF) is sticky and comes with the next call
		}
		return 0, err
	}
	return n, nil
}

// WriteTo writes the rest of the ciphertext to w, straight from the package buffer.
func (e *EncryptReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(e.out) > 0 {
			n, err := w.Write(e.out)
			total += int64(n)
			e.out = e.out[n:]
			if err != nil {
				return total, err
			}
			continue
		}
		if err := e.next(); err == io.EOF {
			return total, nil
		} else if err != nil {
			return total, err
		}
	}
}

// next seals the next package into e.out, or reports io.EOF after the final one.
func (e *EncryptReader) next() error {
	if e.buf == nil {
		// A reader read only in buffers that hold whole packages never needs its own.
		e.buf = make([]byte, cipherPackageSize)
	}
	out, err := e.seal(e.buf)
	if err != nil {
		return err
	}
	e.out = out
	return nil
}

// seal reads the next chunk of plaintext into buf (at least cipherPackageSize bytes) and seals
// it there; it returns the package, or io.EOF after the final one, or the sticky error.
func (e *EncryptReader) seal(buf []byte) ([]byte, error) {
	if e.err != nil {
		return nil, e.err
	}
	if e.done {
		return nil, io.EOF
	}
	n, err := io.ReadFull(e.src, buf[:PackageSize])
	final := err == io.EOF || err == io.ErrUnexpectedEOF
	switch {
	case err != nil && !final:
		e.err = fmt.Errorf("sse: reading plaintext: %w", err)
		return nil, e.err
	case !final && e.index == maxPackets-1:
		e.err = ErrTooLarge
		return nil, e.err
	}
	pkg := e.sc.seal(buf, n, e.index, final)
	e.index++
	e.done = final
	return pkg, nil
}
