package sse

import (
	"crypto/rand"
	"fmt"
	"io"

	"github.com/coffer/coffer/internal/secret"
)

// EncryptReader turns a plaintext io.Reader into the ciphertext stream of SPEC.md section 2. It
// holds one package in memory and allocates nothing per package. It is not safe for concurrent
// use.
type EncryptReader struct {
	src    io.Reader
	sc     streamCipher
	header [HeaderSize]byte
	buf    []byte // one package: plaintext, then sealed in place
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
	e := &EncryptReader{src: src, header: newHeader(&salt), buf: make([]byte, cipherPackageSize)}
	if err := e.sc.init(objectKey, id, &e.header); err != nil {
		return nil, err
	}
	e.out = e.header[:]
	return e, nil
}

// Read reads ciphertext. It returns io.EOF after the final package, and the error of the source
// (wrapped) if the source fails; in that case the ciphertext so far is incomplete and must be
// discarded.
func (e *EncryptReader) Read(p []byte) (int, error) {
	for len(e.out) == 0 {
		if err := e.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, e.out)
	e.out = e.out[n:]
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
	if e.err != nil {
		return e.err
	}
	if e.done {
		return io.EOF
	}
	n, err := io.ReadFull(e.src, e.buf[:PackageSize])
	final := err == io.EOF || err == io.ErrUnexpectedEOF
	switch {
	case err != nil && !final:
		e.err = fmt.Errorf("sse: reading plaintext: %w", err)
		return e.err
	case !final && e.index == maxPackets-1:
		e.err = ErrTooLarge
		return e.err
	}
	e.out = e.sc.seal(e.buf, n, e.index, final)
	e.index++
	e.done = final
	return nil
}
