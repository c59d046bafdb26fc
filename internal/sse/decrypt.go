package sse

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/coffer/coffer/internal/secret"
)

// Reader decrypts a stream stored behind an io.ReaderAt, at random offsets. Opening it verifies
// the header and the final package, so truncation and extension are caught before any plaintext
// is returned (SPEC.md 2.6). Reads then fetch and decrypt only the packages they overlap, one
// package buffer per Reader. Reader is safe for concurrent use; concurrent calls are serialised.
//
// After any authentication failure every later call fails with ErrAuth too.
type Reader struct {
	src    io.ReaderAt
	size   int64 // plaintext size
	last   int64 // index of the final package
	mu     sync.Mutex
	sc     streamCipher
	buf    []byte // one ciphertext package, decrypted in place
	cached int64  // index of the package whose plaintext is plain, or -1
	plain  []byte
	failed bool
}

var _ io.ReaderAt = (*Reader)(nil)

// NewReader opens the stream of ciphertextSize bytes in src for the object or part id, under
// objectKey. ciphertextSize is the stored length (e.g. blob.Reader.Size). Any sign of tampering,
// a wrong key or a wrong identity gives ErrAuth; I/O errors of src are returned wrapped.
func NewReader(src io.ReaderAt, ciphertextSize int64, objectKey secret.Key, id Identity) (*Reader, error) {
	if objectKey.IsZero() {
		return nil, ErrNoKey
	}
	if err := id.validate(); err != nil {
		return nil, err
	}
	size, err := PlaintextSize(ciphertextSize)
	if err != nil {
		return nil, err
	}
	var h [HeaderSize]byte
	if err := readFull(src, h[:], 0); err != nil {
		return nil, err
	}
	if err := checkHeader(&h); err != nil {
		return nil, err
	}
	r := &Reader{src: src, size: size, last: packageCount(size) - 1, cached: -1}
	if err := r.sc.init(objectKey, id, &h); err != nil {
		return nil, err
	}
	r.buf = make([]byte, min(int64(cipherPackageSize), ciphertextSize-HeaderSize))
	if err := r.load(r.last); err != nil {
		return nil, err
	}
	return r, nil
}

// Size returns the plaintext size of the stream: the Content-Length of a full GET.
func (r *Reader) Size() int64 { return r.size }

// ReadAt reads plaintext at offset off, as io.ReaderAt specifies: it returns io.EOF when fewer
// than len(p) bytes remain, and ErrAuth if a package it needs does not authenticate.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("sse: negative offset")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for n < len(p) && off < r.size {
		chunk, err := r.slice(off)
		if err != nil {
			return n, err
		}
		c := copy(p[n:], chunk)
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Range returns a reader of the plaintext bytes [off, off+length). It errors if the range does not
// lie within [0, Size()]; clamping an HTTP Range header is the caller's job.
func (r *Reader) Range(off, length int64) (*RangeReader, error) {
	if off < 0 || length < 0 || off > r.size || length > r.size-off {
		return nil, fmt.Errorf("sse: range [%d, +%d) outside plaintext of %d bytes", off, length, r.size)
	}
	return &RangeReader{r: r, off: off, end: off + length}, nil
}

// slice returns the verified plaintext from off to the end of its package. Callers hold r.mu.
func (r *Reader) slice(off int64) ([]byte, error) {
	if err := r.load(off / PackageSize); err != nil {
		return nil, err
	}
	return r.plain[off%PackageSize:], nil
}

// load makes package i's verified plaintext available in r.plain.
func (r *Reader) load(i int64) error {
	if r.failed {
		return ErrAuth
	}
	if r.cached == i {
		return nil
	}
	r.cached = -1
	n := int64(cipherPackageSize)
	if i == r.last {
		n = r.size%PackageSize + TagSize
	}
	buf := r.buf[:n]
	if err := readFull(r.src, buf, HeaderSize+i*cipherPackageSize); err != nil {
		if err == ErrAuth {
			r.failed = true
		}
		return err
	}
	p, err := r.sc.open(buf, uint64(i), i == r.last)
	if err != nil {
		r.failed = true
		return err
	}
	r.plain, r.cached = p, i
	return nil
}

// readFull fills p from src at off. A stream shorter than its declared size is truncated, hence
// ErrAuth; other read errors are returned wrapped.
func readFull(src io.ReaderAt, p []byte, off int64) error {
	n, err := src.ReadAt(p, off)
	switch {
	case n == len(p):
		return nil
	case err == nil || err == io.EOF || err == io.ErrUnexpectedEOF:
		return ErrAuth
	default:
		return fmt.Errorf("sse: reading ciphertext: %w", err)
	}
}

// RangeReader reads one plaintext range of a Reader sequentially. Its WriteTo writes straight
// from the package buffer. A failure midway is an error, never io.EOF: the output so far must be
// discarded (for HTTP, the response aborted).
type RangeReader struct {
	r        *Reader
	off, end int64
}

var _ io.WriterTo = (*RangeReader)(nil)

// Read reads the next bytes of the range.
func (rr *RangeReader) Read(p []byte) (int, error) {
	if rr.off >= rr.end {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), rr.end-rr.off)]
	n, err := rr.r.ReadAt(p, rr.off)
	rr.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// WriteTo writes the rest of the range to w.
func (rr *RangeReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for rr.off < rr.end {
		n, err := rr.writePackage(w)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// writePackage writes the range's bytes of one package to w.
func (rr *RangeReader) writePackage(w io.Writer) (int64, error) {
	rr.r.mu.Lock()
	defer rr.r.mu.Unlock()
	chunk, err := rr.r.slice(rr.off)
	if err != nil {
		return 0, err
	}
	chunk = chunk[:min(int64(len(chunk)), rr.end-rr.off)]
	n, err := w.Write(chunk)
	rr.off += int64(n)
	if err == nil && n < len(chunk) {
		err = io.ErrShortWrite
	}
	return int64(n), err
}
