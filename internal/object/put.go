package object

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/meta"
)

// PutInput is one object write.
type PutInput struct {
	Bucket, Key string
	Owner       string
	Body        io.Reader
	// Size is the number of bytes Body must yield (-1 if unknown, then up to MaxPutSize).
	Size     int64
	Headers  map[string]string
	UserMeta map[string]string
	Expect   Expect
	// Condition makes the write conditional (If-Match / If-None-Match).
	Condition WriteCondition
	// SSE is the encryption asked for; the zero value takes the bucket default.
	SSE SSE
}

// ValidKey checks an object key.
func ValidKey(key string) error {
	if key == "" || !utf8.ValidString(key) {
		return ErrInvalidKey
	}
	if len(key) > MaxKeyLength {
		return ErrKeyTooLong
	}
	return nil
}

func checkUserMeta(m map[string]string) error {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	if n > MaxUserMetaBytes {
		return ErrMetadataTooLarge
	}
	return nil
}

// sizedReader yields exactly size bytes of r (any size if size < 0, up to limit), failing
// with ErrIncompleteBody when r ends early and ErrEntityTooLarge past the limit.
type sizedReader struct {
	r     io.Reader
	left  int64 // bytes still expected (size known) or allowed (size unknown)
	known bool
}

func (s *sizedReader) Read(p []byte) (int, error) {
	// Read on to the source's own io.EOF even when all bytes are in: a streaming body verifies
	// its last chunk signature and trailers only there.
	if int64(len(p)) > s.left+1 {
		p = p[:s.left+1] // one more byte than allowed reveals an over-long body
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	if s.left < 0 {
		if s.known {
			return n, fmt.Errorf("%w: body longer than declared", ErrIncompleteBody)
		}
		return n, ErrEntityTooLarge
	}
	if err == io.EOF && s.known && s.left > 0 {
		return n, ErrIncompleteBody
	}
	return n, err
}

// writeBlob streams body into a new blob while digesting its plaintext, encrypting it under
// sk, and returns the blob name, plaintext size and digests. The blob is written under an
// intent for the object or part at (see meta.Intent), which the metadata commit naming the
// blob drops. Nothing is left behind on failure. On success the caller calls settled once the
// commit naming the blob has returned.
func (s *Service) writeBlob(ctx context.Context, at meta.Intent, kind string, body io.Reader, size int64, e Expect, sk streamKey) (meta.Part, []byte, error) {
	if size > MaxPutSize {
		return meta.Part{}, nil, ErrEntityTooLarge
	}
	sr := &sizedReader{r: body, left: size, known: size >= 0}
	if size < 0 {
		sr.left = MaxPutSize
	}
	d := newDigester(e.Algorithm)
	name := newBlobName(kind)
	var sums []byte
	var checksums map[string]string
	// The digests are checked before the blob store sees io.EOF, so a body that fails its
	// checksum is never published.
	vr := &verifyingReader{r: io.TeeReader(sr, d), atEOF: func() error {
		var err error
		sums, checksums, err = d.check(e)
		return err
	}}
	er, err := sk.encryptReader(vr)
	if err != nil {
		return meta.Part{}, nil, err
	}
	at.Blob, at.Created = name, s.now()
	s.writing.Store(name, struct{}{})
	// The intent is committed while the blob is written, so it costs no latency: the blob is
	// durable only when Put returns, and the commit that names the blob waits for both. A
	// crash before the intent lands can leave a blob that no intent names; the sweep never
	// deletes such a blob (admin check reports it).
	recorded := make(chan error, 1)
	go func() { recorded <- s.meta.RecordIntent(context.WithoutCancel(ctx), at) }()
	n, err := s.blobs.Put(ctx, name, er)
	ierr := <-recorded
	switch {
	case err != nil:
		if ierr == nil {
			s.dropIntent(ctx, name) // nothing was stored under the name
		}
		s.settled(name)
		return meta.Part{}, nil, classify(err)
	case ierr != nil:
		s.deleteBlob(ctx, name)
		s.settled(name)
		return meta.Part{}, nil, ierr
	}
	plain, err := sk.plaintextSize(n)
	if err == nil && s.outlived(at.Created) {
		err = ErrRequestTimeout
	}
	if err != nil { // a write too slow for shared stores, or the encryptor wrote a stream of impossible length (a bug): never stored
		s.deleteBlob(ctx, name)
		s.dropIntent(ctx, name)
		s.settled(name)
		return meta.Part{}, nil, err
	}
	return meta.Part{Blob: name, Size: plain, ETag: sk.etag(sums), Checksums: checksums, LastModified: s.nowUTC()}, sums, nil
}

// settled ends the write of a blob: its commit (or its failure) has happened, so the start-up
// sweep may judge it by its intent alone (see SweepInterrupted).
func (s *Service) settled(name string) { s.writing.Delete(name) }

// readInline reads a small body whole (at most InlineMax bytes), checks its digests and
// encrypts it under sk, for an object kept inline in its metadata record.
func (s *Service) readInline(body io.Reader, size int64, e Expect, sk streamKey) (meta.Part, error) {
	d := newDigester(e.Algorithm)
	// One buffer of the declared size and room to see a longer body, filled without growing.
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(io.TeeReader(&sizedReader{r: body, left: size, known: true}, d))
	data := buf.Bytes()
	defer clear(data) // best effort: the plaintext leaves memory with the request
	if err != nil {
		return meta.Part{}, err
	}
	sums, checksums, err := d.check(e)
	if err != nil {
		return meta.Part{}, err
	}
	ct, err := encryptInline(data, sk)
	if err != nil {
		return meta.Part{}, err
	}
	return meta.Part{Inline: ct, Size: int64(len(data)), ETag: sk.etag(sums), Checksums: checksums, LastModified: s.nowUTC()}, nil
}

// refused reports whether a failed metadata write is known to have changed nothing. Any
// other failure (an fsync that failed, say) leaves the outcome unknown: the metadata may yet
// reference the new blobs.
func refused(err error) bool {
	for _, c := range []error{meta.ErrNoSuchBucket, meta.ErrNoSuchKey, meta.ErrNoSuchUpload, meta.ErrPartChanged, ErrPreconditionFailed} {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}

// freeUnlessUnknown frees the blobs of a failed write, and then their intents, when the write
// certainly did not land. Otherwise blobs and intents are left to the start-up sweep: if the
// write landed it dropped the intents and the blobs stay; if not, the sweep deletes them.
func (s *Service) freeUnlessUnknown(ctx context.Context, err error, parts []meta.Part) {
	if !refused(err) {
		s.log.WarnContext(ctx, "metadata write failed with an unknown outcome; its blobs are kept for the start-up sweep", "err", err)
		return
	}
	for _, p := range parts {
		if p.Blob == "" {
			continue
		}
		err := s.blobs.Delete(context.WithoutCancel(ctx), p.Blob)
		if err != nil && !errors.Is(err, blob.ErrNotFound) {
			s.log.WarnContext(ctx, "freeing blob failed; its intent is kept for the start-up sweep", "blob", p.Blob, "err", err)
			continue
		}
		s.dropIntent(ctx, p.Blob)
	}
}

// dropIntent removes the intent of a blob that is gone or was never stored. A failure only
// leaves work for the start-up sweep, so it is logged.
func (s *Service) dropIntent(ctx context.Context, name string) {
	if name == "" {
		return
	}
	if err := s.meta.DropIntent(context.WithoutCancel(ctx), name); err != nil {
		s.log.WarnContext(ctx, "dropping a write intent failed; the start-up sweep will", "blob", name, "err", err)
	}
}

// classify unwraps the error classes of a failed body read so the wire layer sees them.
func classify(err error) error {
	for _, c := range []error{ErrBadDigest, ErrIncompleteBody, ErrEntityTooLarge, ErrInvalidChecksum} {
		if errors.Is(err, c) {
			return err
		}
	}
	return err
}

// verifyingReader calls atEOF when r ends, and reports its error in place of io.EOF.
type verifyingReader struct {
	r     io.Reader
	atEOF func() error
	done  bool
	err   error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.done {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	if err == io.EOF {
		v.done = true
		v.err = io.EOF
		if cerr := v.atEOF(); cerr != nil {
			v.err = cerr
		}
		return n, v.err
	}
	return n, err
}

// PutObject stores an object, replacing any of the same key, and returns its metadata. The
// write is durable when PutObject returns nil.
func (s *Service) PutObject(ctx context.Context, in PutInput) (Object, error) {
	o, err := s.putObject(ctx, in)
	return view(o, err, objectOf)
}

// putObject is PutObject, returning the stored record.
func (s *Service) putObject(ctx context.Context, in PutInput) (meta.Object, error) {
	if err := ValidKey(in.Key); err != nil {
		return meta.Object{}, err
	}
	if err := checkUserMeta(in.UserMeta); err != nil {
		return meta.Object{}, err
	}
	b, err := s.meta.GetBucket(ctx, in.Bucket)
	if err != nil {
		return meta.Object{}, err
	}
	if err := s.precheck(ctx, in.Bucket, in.Key, in.Condition); err != nil {
		return meta.Object{}, err
	}
	if err := checkBlocked(in.SSE, b); err != nil {
		return meta.Object{}, err
	}
	id := objectIdentity(in.Bucket, in.Key, "")
	want, err := resolveSSE(in.SSE, b, id)
	if err != nil {
		return meta.Object{}, err
	}
	keys, enc, err := s.newKey(ctx, want, id)
	if err != nil {
		return meta.Object{}, err
	}
	defer keys.Destroy()
	sk := streamKey{keys: keys, id: id}
	var part meta.Part
	if in.Size >= 0 && in.Size <= InlineMax {
		part, err = s.readInline(in.Body, in.Size, in.Expect, sk)
	} else {
		part, _, err = s.writeBlob(ctx, meta.Intent{Bucket: in.Bucket, Key: in.Key}, "o", in.Body, in.Size, in.Expect, sk)
	}
	if err != nil {
		return meta.Object{}, err
	}
	defer s.settled(part.Blob)
	o := meta.Object{
		Bucket: in.Bucket, Key: in.Key, Size: part.Size, ETag: part.ETag,
		LastModified: part.LastModified, Owner: in.Owner,
		Headers: in.Headers, UserMeta: in.UserMeta,
		Checksums:  part.Checksums,
		Parts:      []meta.Part{part},
		Encryption: enc,
	}
	if len(o.Checksums) > 0 {
		o.ChecksumType = FullObject
	}
	return o, s.commit(ctx, o, in.Condition)
}

// commit stores o's metadata and frees whatever it replaced. On failure the new blobs, which
// nothing references, are freed instead.
func (s *Service) commit(ctx context.Context, o meta.Object, cond WriteCondition) error {
	replaced, err := s.meta.PutObject(ctx, o, cond.conditions()...)
	if err != nil {
		s.freeUnlessUnknown(ctx, err, o.Parts)
		return err
	}
	if replaced != nil {
		s.freeBlobs(ctx, meta.Intent{Bucket: o.Bucket, Key: o.Key}, replaced.Parts)
	}
	return nil
}
