package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/blob"
)

// head returns the object's metadata, blob.ErrNotFound when there is none. (S3 answers a
// HEAD of a missing key with 403 rather than 404 to a caller without s3:ListBucket: grant it.)
func (s *Store) head(ctx context.Context, key string) (*s3.HeadObjectOutput, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if httpStatus(err) == 404 {
		return nil, fmt.Errorf("%w: %w", blob.ErrNotFound, err)
	}
	return out, err
}

// Open implements blob.Store. The reader's GETs run under ctx (io.ReaderAt has no context of
// its own), so it is usable until ctx ends or Close is called.
func (s *Store) Open(ctx context.Context, name string) (blob.Reader, error) {
	if !blob.ValidName(name) {
		return nil, fmt.Errorf("s3blob: open %q: %w", name, blob.ErrInvalidName)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3blob: open %q: %w", name, err)
	}
	out, err := s.head(ctx, s.key(name))
	if err != nil {
		return nil, fmt.Errorf("s3blob: open %q: %w", name, err)
	}
	rctx, cancel := context.WithCancel(ctx)
	return &reader{
		s: s, ctx: rctx, cancel: cancel, name: name, key: s.key(name),
		etag: aws.ToString(out.ETag), size: aws.ToInt64(out.ContentLength),
	}, nil
}

// reader is a blob.Reader over ranged GETs. Reads shorter than the store's read-ahead are
// served from a window of that size, fetched whole on a miss, so sequential small reads cost
// one GET per window. One caller at a time uses the window; parallel callers fetch their own
// ranges.
type reader struct {
	s      *Store
	ctx    context.Context // Open's ctx, cancelled by Close: the lifetime of the reader's GETs
	cancel context.CancelFunc
	name   string
	key    string
	etag   string
	size   int64

	mu     sync.Mutex
	win    []byte // bytes [winOff, winOff+len(win)) of the blob
	winOff int64
	pooled *[]byte // win's buffer when taken from the Store's pool, returned by Close
}

// releaseWindow gives a pooled window back. The caller holds mu.
func (r *reader) releaseWindow() {
	if r.pooled != nil {
		r.s.windows.Put(r.pooled)
		r.pooled = nil
	}
	r.win = nil
}

func (r *reader) Size() int64 { return r.size }

// Close ends the reader's GETs and frees its window. ReadAt must not be called after Close.
func (r *reader) Close() error {
	r.cancel()
	r.mu.Lock()
	r.releaseWindow()
	r.mu.Unlock()
	return nil
}

// ReadAt implements io.ReaderAt.
func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("s3blob: read %q: negative offset %d", r.name, off)
	}
	if off >= r.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := int(min(int64(len(p)), r.size-off))
	if err := r.read(p[:want], off); err != nil {
		return 0, err
	}
	if want < len(p) {
		return want, io.EOF
	}
	return want, nil
}

// read fills p, which lies within the blob, from the window or the store.
func (r *reader) read(p []byte, off int64) error {
	if len(p) == 0 {
		return nil
	}
	if len(p) >= r.s.readAhead || !r.mu.TryLock() {
		return r.fetch(p, off)
	}
	defer r.mu.Unlock()
	if off < r.winOff || off+int64(len(p)) > r.winOff+int64(len(r.win)) {
		n := int(min(int64(r.s.readAhead), r.size-off))
		if cap(r.win) < n {
			r.releaseWindow()
			if n == r.s.readAhead {
				r.pooled = r.s.windows.Get().(*[]byte)
				r.win = *r.pooled
			} else {
				r.win = make([]byte, n) // a small blob, or a blob's tail: no more is ever needed
			}
		}
		r.win, r.winOff = r.win[:n], off
		if err := r.fetch(r.win, off); err != nil {
			r.win = r.win[:0]
			return err
		}
	}
	copy(p, r.win[off-r.winOff:])
	return nil
}

// fetch fills p with the blob's bytes at off by one ranged GET.
func (r *reader) fetch(p []byte, off int64) error {
	out, err := r.s.client.GetObject(r.ctx, &s3.GetObjectInput{
		Bucket: aws.String(r.s.bucket), Key: aws.String(r.key),
		Range:   aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(p))-1)),
		IfMatch: aws.String(r.etag),
	})
	switch st := httpStatus(err); {
	case st == 404:
		return fmt.Errorf("s3blob: read %q: %w: %w", r.name, blob.ErrNotFound, err)
	case st == 412:
		return fmt.Errorf("s3blob: read %q: the blob was deleted and written again since Open: %w: %w", r.name, blob.ErrNotFound, err)
	case err != nil:
		return fmt.Errorf("s3blob: read %q: %w", r.name, err)
	}
	defer out.Body.Close()
	if _, err := io.ReadFull(out.Body, p); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = fmt.Errorf("store sent fewer bytes than the range asked: %w", io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("s3blob: read %q at %d: %w", r.name, off, err)
	}
	return nil
}
