package object

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/meta"
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
func (s *Service) OpenObject(ctx context.Context, bucket, key string) (meta.Object, Reader, error) {
	for attempt := 1; ; attempt++ {
		o, err := s.Head(ctx, bucket, key)
		if err != nil {
			return meta.Object{}, nil, err
		}
		rd, err := s.Open(ctx, o)
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
// delete, which frees them, cannot cut a read short.
func (s *Service) Open(ctx context.Context, o meta.Object) (Reader, error) {
	r := &partsReader{starts: make([]int64, len(o.Parts)), size: o.Size}
	var off int64
	for i, p := range o.Parts {
		if p.Blob == "" {
			r.parts = append(r.parts, inlineReader{bytes.NewReader(p.Inline)})
			r.starts[i] = off
			off += p.Size
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
		r.starts[i] = off
		off += p.Size
	}
	return r, nil
}

// inlineReader reads the bytes of a part kept in its metadata record.
type inlineReader struct{ *bytes.Reader }

func (inlineReader) Close() error { return nil }

// partsReader concatenates part blobs into one io.ReaderAt.
type partsReader struct {
	parts  []blob.Reader
	starts []int64 // offset of each part in the object
	size   int64
}

func (r *partsReader) Size() int64 { return r.size }

func (r *partsReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	// Find the last part that starts at or before off.
	i := sort.Search(len(r.starts), func(i int) bool { return r.starts[i] > off }) - 1
	total := 0
	for len(p) > 0 && i < len(r.parts) {
		inPart := off - r.starts[i]
		partLen := r.parts[i].Size()
		if inPart >= partLen {
			i++
			continue
		}
		want := p
		if int64(len(want)) > partLen-inPart {
			want = want[:partLen-inPart]
		}
		n, err := r.parts[i].ReadAt(want, inPart)
		total += n
		off += int64(n)
		p = p[n:]
		if err != nil && !(err == io.EOF && n == len(want)) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // a blob shorter than its metadata says
			}
			return total, err
		}
		i++
	}
	if len(p) > 0 {
		return total, io.EOF
	}
	return total, nil
}

func (r *partsReader) Close() error {
	var first error
	for _, p := range r.parts {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
