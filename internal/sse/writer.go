package sse

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/coffer/coffer/internal/secret"
)

// EncryptWriter is the push-style twin of EncryptReader: plaintext written to it is encrypted to
// dst, package by package; Close writes the final package. Without Close the stream is
// incomplete and will not decrypt. It allocates nothing per package and is not safe for
// concurrent use.
type EncryptWriter struct {
	dst    io.Writer
	sc     streamCipher
	header [HeaderSize]byte
	buf    []byte // plaintext being gathered, sealed in place when full
	n      int    // plaintext bytes in buf
	index  uint64
	wrote  bool  // header written
	err    error // sticky: a failed write to dst, or Close
}

var _ io.WriteCloser = (*EncryptWriter)(nil)

// errClosed is returned by Write after Close.
var errClosed = errors.New("sse: write after close")

// NewEncryptWriter returns a writer that encrypts to dst under objectKey for the object or part
// id, with a fresh random salt. Nothing is written to dst before the first Write or Close.
func NewEncryptWriter(dst io.Writer, objectKey secret.Key, id Identity) (*EncryptWriter, error) {
	if objectKey.IsZero() {
		return nil, ErrNoKey
	}
	if err := id.validate(); err != nil {
		return nil, err
	}
	var salt [SaltSize]byte
	rand.Read(salt[:]) // never fails since Go 1.24
	w := &EncryptWriter{dst: dst, header: newHeader(&salt), buf: make([]byte, cipherPackageSize)}
	if err := w.sc.init(objectKey, id, &w.header); err != nil {
		return nil, err
	}
	return w, nil
}

// Write encrypts p. A package is sealed and written once PackageSize bytes have gathered.
func (w *EncryptWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if w.err != nil {
			return written, w.err
		}
		c := copy(w.buf[w.n:PackageSize], p)
		w.n += c
		written += c
		p = p[c:]
		if w.n == PackageSize {
			// A full package is never final (SPEC.md 2.1), so it can go out at once.
			if w.index == maxPackets-1 {
				// The last allowed package must be final and short: the byte that filled it is
				// one past MaxPlaintextSize.
				w.err = ErrTooLarge
				return written - 1, w.err
			}
			if w.flush(false); w.err != nil {
				return written, w.err
			}
		}
	}
	return written, nil
}

// Close writes the final package. It does not close dst.
func (w *EncryptWriter) Close() error {
	if w.err != nil {
		if w.err == errClosed {
			return nil
		}
		return w.err
	}
	w.flush(true)
	if w.err != nil {
		return w.err
	}
	w.err = errClosed
	return nil
}

// flush seals the gathered plaintext as the next package and writes it (after the header, the
// first time).
func (w *EncryptWriter) flush(final bool) {
	if !w.wrote {
		if _, err := w.dst.Write(w.header[:]); err != nil {
			w.err = fmt.Errorf("sse: writing ciphertext: %w", err)
			return
		}
		w.wrote = true
	}
	pkg := w.sc.seal(w.buf, w.n, w.index, final)
	w.index++
	w.n = 0
	if _, err := w.dst.Write(pkg); err != nil {
		w.err = fmt.Errorf("sse: writing ciphertext: %w", err)
	}
}
