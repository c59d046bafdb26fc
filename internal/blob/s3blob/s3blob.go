// Package s3blob is a blob.Store on any S3-compatible object store (AWS S3, another Coffer,
// MinIO, Ceph RGW…), so that several Coffer nodes can share one store of object bytes.
//
// Each blob is one object, its key the configured prefix, '/', and the blob name.
//
// Put streams: a blob shorter than the part size (8 MiB by default) is one PutObject of known
// length; a longer one is a multipart upload whose next part is read from the caller while the
// current one uploads, in two pooled part buffers, so a Put holds at most two parts of memory
// whatever the blob's size (and a blob may have 10,000 parts: 80 GB at the default size). A failed or cancelled multipart Put
// aborts its upload, so nothing becomes visible. (Should the abort itself fail, the parts stay
// invisible and billable until the bucket's AbortIncompleteMultipartUpload lifecycle rule, or
// AbortStale, removes them; give the bucket such a rule.) Every PutObject and UploadPart carries
// its CRC32C (x-amz-checksum-crc32c), which the store checks before it accepts the bytes, so a
// transfer corrupted past TLS is refused rather than stored.
//
// Put never replaces a blob: PutObject and CompleteMultipartUpload are sent with
// If-None-Match: *, which S3 (since August 2024) and Coffer evaluate atomically with the write,
// so of two nodes writing one name exactly one wins and the other gets 412, reported as
// blob.ErrExists. S3 may instead answer 409 ConditionalRequestConflict while another
// conditional write of the key is in flight: a PutObject is then retried, as S3 asks; a
// multipart Put fails (S3 asks for a new upload, and the body is consumed) and the caller
// retries it like any failed write. A store that answers 501 NotImplemented to the header makes
// the Store fall back, once and with a warning, to checking with HEAD before each write; that
// leaves a race: two writers that both HEAD before either writes both succeed and the later
// replaces the earlier. Blob names are unique per write in Coffer, so the race needs two nodes
// to pick one name, but the guarantee is gone.
//
// Open HEADs the object for its size and ETag; the reader fetches byte ranges with GET (If-Match
// the ETag), keeping a read-ahead window so sequential small reads cost one GET per window. A
// blob deleted while open is not readable afterwards (blobtest.Options.NoReadAfterDelete).
//
// Delete HEADs first, since S3's DELETE answers 204 whether or not the key existed; two racing
// Deletes of one blob may both succeed.
//
// List pages through ListObjectsV2 under the prefix. A listing of an S3-compatible store may be
// stale (AWS S3 is strongly consistent since 2020; other stores and multi-site setups are not):
// it may miss a blob just written and show one just deleted. See blob.Store.List for what
// maintenance callers must do about it.
package s3blob

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/blob"
)

var (
	_ blob.Store      = (*Store)(nil)
	_ blob.InfoLister = (*Store)(nil)
)

// Store is an S3-backed blob.Store. It is safe for concurrent use.
type Store struct {
	client    *s3.Client
	bucket    string
	prefix    string // "" or ending in '/'
	partSize  int
	readAhead int
	parts     sync.Pool // *[]byte of partSize
	windows   sync.Pool // *[]byte of readAhead: the readers' read-ahead windows
	log       *slog.Logger
	trust     string // what TLS trusts, for errors: the CA bundle's path or the system roots
	// headCheck is set once the store has refused If-None-Match (501): writes then check
	// with HEAD first, racily.
	headCheck atomic.Bool
}

// New returns a Store for c after checking that the bucket answers (HeadBucket), so a wrong
// endpoint, CA bundle, credentials or bucket fails here with a clear error.
func New(ctx context.Context, c Config) (*Store, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	client, err := newClient(ctx, c)
	if err != nil {
		return nil, err
	}
	s := &Store{client: client, bucket: c.Bucket, partSize: c.PartSize, readAhead: c.ReadAhead, log: c.Logger}
	if c.Prefix != "" {
		s.prefix = c.Prefix + "/"
	}
	s.trust = "the system roots"
	if c.CAFile != "" {
		s.trust = "the CA bundle " + c.CAFile
	}
	if s.partSize == 0 {
		s.partSize = DefaultPartSize
	}
	if s.readAhead == 0 {
		s.readAhead = DefaultReadAhead
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.parts.New = func() any { b := make([]byte, s.partSize); return &b }
	s.windows.New = func() any { b := make([]byte, s.readAhead); return &b }
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Check reports whether the bucket answers (HeadBucket), for readiness probes.
func (s *Store) Check(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err == nil {
		return nil
	}
	var unknownCA x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknownCA) || errors.As(err, &verify) {
		return fmt.Errorf("s3blob: bucket %s: the endpoint's TLS certificate is not trusted by %s: %w", s.bucket, s.trust, err)
	}
	switch httpStatus(err) {
	case 404:
		return fmt.Errorf("s3blob: bucket %s does not exist: %w", s.bucket, err)
	case 403:
		return fmt.Errorf("s3blob: bucket %s: access denied; check the credentials and the bucket's policy: %w", s.bucket, err)
	}
	return fmt.Errorf("s3blob: bucket %s: %w", s.bucket, err)
}

// key maps a valid blob name to its object key.
func (s *Store) key(name string) string { return s.prefix + name }

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, name string, r io.Reader) (int64, error) {
	if !blob.ValidName(name) {
		return 0, fmt.Errorf("s3blob: put %q: %w", name, blob.ErrInvalidName)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("s3blob: put %q: %w", name, err)
	}
	bp := s.parts.Get().(*[]byte)
	defer s.parts.Put(bp)
	buf := *bp
	n, eof, err := fill(ctx, r, buf)
	if err != nil {
		return 0, fmt.Errorf("s3blob: put %q: %w", name, err)
	}
	if eof {
		err = s.putSmall(ctx, s.key(name), buf[:n])
		return int64(n), s.putErr(ctx, name, err)
	}
	total, err := s.putMultipart(ctx, s.key(name), r, buf)
	return total, s.putErr(ctx, name, err)
}

// putErr wraps a Put failure, making a cancelled ctx visible to errors.Is whatever the SDK
// wrapped it in.
func (s *Store) putErr(ctx context.Context, name string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("s3blob: put %q: %w (%w)", name, ctx.Err(), err)
	default:
		return fmt.Errorf("s3blob: put %q: %w", name, err)
	}
}

// fill reads r into buf until buf is full or r ends (eof), checking ctx between reads.
func fill(ctx context.Context, r io.Reader, buf []byte) (n int, eof bool, err error) {
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return n, false, err
		}
		m, rerr := r.Read(buf[n:])
		n += m
		if rerr == io.EOF {
			return n, true, nil
		}
		if rerr != nil {
			return n, false, fmt.Errorf("read body: %w", rerr)
		}
	}
	return n, false, nil
}
