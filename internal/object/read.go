package object

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/sse"
)

// Head returns an object's metadata.
func (s *Service) Head(ctx context.Context, bucket, key string) (Object, error) {
	o, err := s.head(ctx, bucket, key)
	return view(o, err, objectOf)
}

// head returns an object's stored record.
func (s *Service) head(ctx context.Context, bucket, key string) (meta.Object, error) {
	if !ValidBucketName(bucket) {
		return meta.Object{}, meta.ErrNoSuchBucket
	}
	return s.meta.GetObject(ctx, bucket, key)
}

// errBlobGone marks an Open that found a blob freed by a concurrent overwrite or delete.
var errBlobGone = errors.New("object: blob freed while opening")

// openAttempts bounds how often OpenObject re-reads metadata when overwrites keep racing it.
const openAttempts = 5

// OpenObject returns the current metadata of an object with a reader of exactly those bytes.
// An overwrite or delete that frees the bytes between the metadata read and the open is met
// by reading the metadata again, so a key that exists throughout is never reported missing.
// ck is the SSE-C customer key the request presents (zero for none); see Open.
func (s *Service) OpenObject(ctx context.Context, bucket, key string, ck secret.Key) (Object, Reader, error) {
	for attempt := 1; ; attempt++ {
		o, err := s.head(ctx, bucket, key)
		if err != nil {
			return Object{}, nil, err
		}
		rd, err := s.open(ctx, o, ck)
		if err == nil {
			return objectOf(o), rd, nil
		}
		if !errors.Is(err, errBlobGone) || attempt == openAttempts {
			return Object{}, nil, err
		}
	}
}

// Reader reads an object's bytes at random offsets; Close releases it.
type Reader interface {
	io.ReaderAt
	io.Closer
	Size() int64
	// WriteRange writes the bytes [off, off+n) to w, which must lie within the object. An
	// encrypted object's bytes are written straight from the buffer they were decrypted in,
	// a window of packages at a time, each window verified whole before any of it is written:
	// so nothing reaches w before the range's first megabyte (or all of it, if smaller)
	// authenticated. An error after that leaves w with a prefix only, never wrong bytes.
	WriteRange(w io.Writer, off, n int64) (int64, error)
}

// Open opens the bytes of o. All of its blobs are opened at once, so a concurrent overwrite or
// delete, which frees them, cannot cut a read short. For an encrypted object the object key is
// unsealed here (one call to the key service); each part is then decrypted lazily, package by
// package, as reads reach it, so a small range of a large object decrypts only what it needs.
// An SSE-C object opens only with its customer key ck (CheckCustomerKey's errors); any other
// object refuses one.
func (s *Service) Open(ctx context.Context, o Object, ck secret.Key) (Reader, error) {
	return s.open(ctx, o.rec, ck)
}

// open opens the bytes of the stored object o; see Open.
func (s *Service) open(ctx context.Context, o meta.Object, ck secret.Key) (Reader, error) {
	if o.Encryption == nil && !ck.IsZero() {
		return nil, ErrSSECNotApplicable
	}
	r := &partsReader{starts: make([]int64, len(o.Parts)), sizes: make([]int64, len(o.Parts)), size: o.Size, cur: -1, bufs: &s.readBufs}
	if o.Encryption != nil {
		keys, err := s.openKey(ctx, o.Encryption, objectIdentity(o.Bucket, o.Key, o.UploadID), ck)
		if err != nil {
			return nil, err
		}
		r.keys = keys
		r.ids = make([]sse.Identity, len(o.Parts))
	}
	var off int64
	for i, p := range o.Parts {
		r.starts[i], r.sizes[i] = off, p.Size
		off += p.Size
		if r.ids != nil {
			r.ids[i] = partIdentity(o, p)
		}
		if p.Blob == "" {
			r.parts = append(r.parts, inlineReader{bytes.NewReader(p.Inline)})
			continue
		}
		br, err := s.blobs.Open(ctx, p.Blob)
		if err != nil {
			r.Close()
			if errors.Is(err, blob.ErrNotFound) {
				// The object was replaced between the metadata read and here.
				return nil, fmt.Errorf("%w: %w", meta.ErrNoSuchKey, errBlobGone)
			}
			return nil, err
		}
		r.parts = append(r.parts, br)
	}
	return r, nil
}

// inlineReader reads the bytes of a part kept in its metadata record.
type inlineReader struct{ *bytes.Reader }

func (inlineReader) Close() error { return nil }

// partsReader concatenates the plaintext of an object's parts into one io.ReaderAt.
type partsReader struct {
	parts  []blob.Reader // stored bytes: ciphertext when key is set
	starts []int64       // plaintext offset of each part in the object
	sizes  []int64       // plaintext size of each part
	size   int64
	keys   objectKeys     // object keys; zero for a plaintext object
	ids    []sse.Identity // stream identity of each part when encrypted

	mu   sync.Mutex // guards the decrypting reader of the current part and buf
	cur  int        // index of the part dec reads, -1 for none
	dec  *sse.Reader
	bufs *sync.Pool // of *[]byte, sse.ReadBufferSize each
	buf  *[]byte    // taken from bufs on first use, returned by Close
	// inner is the buffer of the inner layer of a DSSE-KMS object, which reads from the outer
	// one: taken from bufs on first use, returned by Close.
	inner *[]byte
}

func (r *partsReader) Size() int64 { return r.size }

// buffer returns the reader's one large buffer, shared by the parts in turn (one is read at a
// time), so memory per open object is one buffer whatever its size. Callers hold r.mu.
func (r *partsReader) buffer() []byte {
	if r.buf == nil {
		r.buf = r.bufs.Get().(*[]byte)
	}
	return *r.buf
}

// source returns the plaintext of part i as an io.ReaderAt: the blob itself, or a decrypting
// reader. Callers hold r.mu.
func (r *partsReader) source(i int) (io.ReaderAt, error) {
	if r.keys.inner.IsZero() {
		return r.parts[i], nil
	}
	if r.cur == i {
		return r.dec, nil
	}
	r.cur, r.dec = -1, nil
	var buf, inner []byte // an inline part is small: the reader allocates what it needs
	if _, inline := r.parts[i].(inlineReader); !inline {
		buf = r.buffer()
		if !r.keys.outer.IsZero() {
			if r.inner == nil {
				r.inner = r.bufs.Get().(*[]byte)
			}
			inner = *r.inner
		}
	}
	d, err := r.keys.decryptReader(r.parts[i], r.parts[i].Size(), r.ids[i], buf, inner)
	if err != nil {
		return nil, damaged(err)
	}
	if d.Size() != r.sizes[i] {
		return nil, fmt.Errorf("%w: part %d holds %d bytes, its record says %d", ErrDamaged, i, d.Size(), r.sizes[i])
	}
	r.cur, r.dec = i, d
	return d, nil
}

// partAt is the index of the last part that starts at or before off.
func (r *partsReader) partAt(off int64) int {
	return sort.Search(len(r.starts), func(i int) bool { return r.starts[i] > off }) - 1
}

func (r *partsReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.partAt(off)
	total := 0
	for len(p) > 0 && i < len(r.parts) {
		inPart := off - r.starts[i]
		partLen := r.sizes[i]
		if inPart >= partLen {
			i++
			continue
		}
		want := p
		if int64(len(want)) > partLen-inPart {
			want = want[:partLen-inPart]
		}
		src, err := r.source(i)
		if err != nil {
			return total, err
		}
		n, err := src.ReadAt(want, inPart)
		total += n
		off += int64(n)
		p = p[n:]
		if err != nil && !(err == io.EOF && n == len(want)) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // a blob shorter than its metadata says
			}
			return total, damaged(err)
		}
		i++
	}
	if len(p) > 0 {
		return total, io.EOF
	}
	return total, nil
}

// errWrite marks a failure of the writer given to WriteRange, which is not the object's fault.
type errWrite struct{ err error }

func (e errWrite) Error() string { return e.err.Error() }
func (e errWrite) Unwrap() error { return e.err }

// writerOf tells apart the errors of w in a copy, so they are not reported as damage.
type writerOf struct{ w io.Writer }

func (w writerOf) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		err = errWrite{err}
	}
	return n, err
}

func (r *partsReader) WriteRange(w io.Writer, off, n int64) (int64, error) {
	if off < 0 || n < 0 || off > r.size || n > r.size-off {
		return 0, fmt.Errorf("object: range [%d, +%d) outside %d bytes", off, n, r.size)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ww := writerOf{w}
	var total int64
	for i := r.partAt(off); n > 0; i++ {
		if i >= len(r.parts) {
			return total, damaged(io.ErrUnexpectedEOF)
		}
		inPart := off - r.starts[i]
		m := min(n, r.sizes[i]-inPart)
		if m <= 0 {
			continue
		}
		written, err := r.writePart(ww, i, inPart, m)
		total += written
		if err != nil {
			var we errWrite
			if errors.As(err, &we) {
				return total, we.err
			}
			return total, damaged(err)
		}
		off, n = off+m, n-m
	}
	return total, nil
}

// writePart writes bytes [off, off+n) of part i's plaintext to w. Callers hold r.mu.
func (r *partsReader) writePart(w io.Writer, i int, off, n int64) (int64, error) {
	src, err := r.source(i)
	if err != nil {
		return 0, err
	}
	var written int64
	if d, ok := src.(*sse.Reader); ok {
		rr, err := d.Range(off, n)
		if err != nil {
			return 0, err
		}
		return rr.WriteTo(w)
	}
	// A plaintext part has no decrypting reader, so the buffer is free for the copy.
	written, err = io.CopyBuffer(w, io.NewSectionReader(src, off, n), r.buffer())
	if err == nil && written < n {
		err = io.ErrUnexpectedEOF // a blob shorter than its metadata says
	}
	return written, err
}

func (r *partsReader) Close() error {
	r.keys.Destroy()
	r.mu.Lock()
	r.cur, r.dec = -1, nil
	for _, b := range []**[]byte{&r.buf, &r.inner} {
		if *b != nil {
			r.bufs.Put(*b)
			*b = nil
		}
	}
	r.mu.Unlock()
	var first error
	for _, p := range r.parts {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
