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
func (s *Service) Head(ctx context.Context, bucket, key string) (meta.Object, error) {
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
func (s *Service) OpenObject(ctx context.Context, bucket, key string, ck secret.Key) (meta.Object, Reader, error) {
	for attempt := 1; ; attempt++ {
		o, err := s.Head(ctx, bucket, key)
		if err != nil {
			return meta.Object{}, nil, err
		}
		rd, err := s.Open(ctx, o, ck)
		if err == nil {
			return o, rd, nil
		}
		if !errors.Is(err, errBlobGone) || attempt == openAttempts {
			return meta.Object{}, nil, err
		}
	}
}

// Reader reads an object's bytes at random offsets; Close releases it.
type Reader interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Open opens the bytes of o. All of its blobs are opened at once, so a concurrent overwrite or
// delete, which frees them, cannot cut a read short. For an encrypted object the object key is
// unsealed here (one call to the key service); each part is then decrypted lazily, package by
// package, as reads reach it, so a small range of a large object decrypts only what it needs.
// An SSE-C object opens only with its customer key ck (CheckCustomerKey's errors); any other
// object refuses one.
func (s *Service) Open(ctx context.Context, o meta.Object, ck secret.Key) (Reader, error) {
	if o.Encryption == nil && !ck.IsZero() {
		return nil, ErrSSECNotApplicable
	}
	r := &partsReader{starts: make([]int64, len(o.Parts)), sizes: make([]int64, len(o.Parts)), size: o.Size, cur: -1}
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

	mu  sync.Mutex // guards the decrypting reader of the current part
	cur int        // index of the part dec reads, -1 for none
	dec *sse.Reader
	win *readAhead
}

func (r *partsReader) Size() int64 { return r.size }

// source returns the plaintext of part i as an io.ReaderAt.
func (r *partsReader) source(i int) (io.ReaderAt, error) {
	if r.keys.inner.IsZero() {
		return r.parts[i], nil
	}
	if r.cur == i {
		return r.dec, nil
	}
	r.cur, r.dec = -1, nil
	src := io.ReaderAt(r.parts[i])
	if _, inline := r.parts[i].(inlineReader); !inline {
		if r.win == nil {
			r.win = &readAhead{buf: make([]byte, readAheadSize)}
		}
		r.win.reset(r.parts[i])
		src = r.win
	}
	d, err := r.keys.decryptReader(src, r.parts[i].Size(), r.ids[i])
	if err != nil {
		return nil, damaged(err)
	}
	if d.Size() != r.sizes[i] {
		return nil, fmt.Errorf("%w: part %d holds %d bytes, its record says %d", ErrDamaged, i, d.Size(), r.sizes[i])
	}
	r.cur, r.dec = i, d
	return d, nil
}

func (r *partsReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Find the last part that starts at or before off.
	i := sort.Search(len(r.starts), func(i int) bool { return r.starts[i] > off }) - 1
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

func (r *partsReader) Close() error {
	r.keys.Destroy()
	var first error
	for _, p := range r.parts {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// readAheadSize is how much ciphertext a decrypting read fetches at once: 16 packages, so a
// sequential GET makes one large read per megabyte rather than one per 64 KiB package.
const readAheadSize = 16 * (sse.PackageSize + sse.TagSize)

// readAhead serves small ReadAt calls from one window of the source, refilled with one large
// read whenever a call falls outside it. Memory stays one window per open object.
type readAhead struct {
	src  io.ReaderAt
	buf  []byte
	off  int64
	n    int
	size int64
}

func (w *readAhead) reset(src blob.Reader) { w.src, w.size, w.off, w.n = src, src.Size(), 0, 0 }

func (w *readAhead) ReadAt(p []byte, off int64) (int, error) {
	if len(p) > len(w.buf) {
		return w.src.ReadAt(p, off)
	}
	if off < w.off || off+int64(len(p)) > w.off+int64(w.n) {
		want := min(int64(len(w.buf)), max(w.size-off, 0))
		n, err := w.src.ReadAt(w.buf[:want], off)
		if err != nil && !(err == io.EOF && int64(n) == want) {
			w.n = 0
			return 0, err
		}
		w.off, w.n = off, n
	}
	n := copy(p, w.buf[off-w.off:w.n])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
