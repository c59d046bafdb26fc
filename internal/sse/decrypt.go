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
// is returned (SPEC.md 2.6). Reads then fetch and decrypt only the packages they overlap. Reader
// is safe for concurrent use; concurrent calls are serialised.
//
// The final package stays decrypted from the open on. The other packages go through a window of
// whole packages: a read that misses it fetches, with one ReadAt, the packages it needs (up to the
// window's size) and decrypts them in place before it returns any plaintext, so a sequential read
// makes one large read per window and a small range reads only its own packages.
//
// After any authentication failure every later call fails with ErrAuth too.
type Reader struct {
	src    io.ReaderAt
	size   int64 // plaintext size
	last   int64 // index of the final package
	mu     sync.Mutex
	sc     streamCipher
	final  []byte // verified plaintext of the final package
	win    []byte // whole ciphertext packages, decrypted in place
	first  int64  // index of the package at the start of win
	count  int64  // verified packages in win
	failed bool
}

var _ io.ReaderAt = (*Reader)(nil)

// ReadBufferSize is the buffer NewReaderBuffer needs to read with a window of 16 packages (1 MiB
// of plaintext): one large storage read per megabyte of a sequential read.
const ReadBufferSize = 17 * cipherPackageSize

// NewReader opens the stream of ciphertextSize bytes in src for the object or part id, under
// objectKey. ciphertextSize is the stored length (e.g. blob.Reader.Size). Any sign of tampering,
// a wrong key or a wrong identity gives ErrAuth; I/O errors of src are returned wrapped. It
// allocates what the stream needs, at most ReadBufferSize bytes; NewReaderBuffer reuses a buffer.
func NewReader(src io.ReaderAt, ciphertextSize int64, objectKey secret.Key, id Identity) (*Reader, error) {
	return NewReaderBuffer(src, ciphertextSize, objectKey, id, nil)
}

// NewReaderBuffer is NewReader working in buf, which the Reader owns until the caller stops
// using it (the caller may then reuse buf for another Reader). A buf shorter than the stream
// needs, up to ReadBufferSize, is replaced by an allocated one; a longer one widens the window.
func NewReaderBuffer(src io.ReaderAt, ciphertextSize int64, objectKey secret.Key, id Identity, buf []byte) (*Reader, error) {
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
	r := &Reader{src: src, size: size, last: packageCount(size) - 1}
	if err := r.sc.init(objectKey, id, &h); err != nil {
		return nil, err
	}
	finalLen := size%PackageSize + TagSize
	need := finalLen + min(r.last, ReadBufferSize/cipherPackageSize-1)*cipherPackageSize
	if int64(len(buf)) < need {
		buf = make([]byte, need)
	}
	r.final, r.win = buf[:finalLen], buf[finalLen:]
	r.win = r.win[:len(r.win)/cipherPackageSize*cipherPackageSize]
	if err := readFull(src, r.final, HeaderSize+r.last*cipherPackageSize); err != nil {
		return nil, err
	}
	if r.final, err = r.sc.open(r.final, uint64(r.last), true); err != nil {
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
	end := min(off+int64(len(p)), r.size)
	for off < end {
		chunk, err := r.slice(off, end)
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

// slice returns verified plaintext from off, off < end <= r.size, to the end of its package or
// end, whichever comes first. Callers hold r.mu.
func (r *Reader) slice(off, end int64) ([]byte, error) {
	if r.failed {
		return nil, ErrAuth
	}
	i := off / PackageSize
	var p []byte
	if i == r.last {
		p = r.final
	} else {
		if i < r.first || i >= r.first+r.count {
			if err := r.fill(i, (end-1)/PackageSize); err != nil {
				return nil, err
			}
		}
		k := (i - r.first) * cipherPackageSize
		p = r.win[k : k+PackageSize]
	}
	return p[off%PackageSize : min(int64(len(p)), end-i*PackageSize)], nil
}

// fill reads packages i through j (capped by the window and the final package, which is held
// apart) with one ReadAt, and decrypts them all before any of their plaintext is used.
func (r *Reader) fill(i, j int64) error {
	n := min(j+1, r.last, i+int64(len(r.win))/cipherPackageSize) - i
	r.count = 0
	buf := r.win[:n*cipherPackageSize]
	if err := readFull(r.src, buf, HeaderSize+i*cipherPackageSize); err != nil {
		if err == ErrAuth {
			r.failed = true
		}
		return err
	}
	for k := range n {
		pkg := buf[k*cipherPackageSize : (k+1)*cipherPackageSize]
		if _, err := r.sc.open(pkg, uint64(i+k), false); err != nil {
			r.failed = true
			return err
		}
	}
	r.first, r.count = i, n
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
	chunk, err := rr.r.slice(rr.off, rr.end)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(chunk)
	rr.off += int64(n)
	if err == nil && n < len(chunk) {
		err = io.ErrShortWrite
	}
	return int64(n), err
}
