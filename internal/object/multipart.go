package object

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/sse"
)

// CreateUploadInput starts a multipart upload.
type CreateUploadInput struct {
	Bucket, Key       string
	Owner             string
	Headers           map[string]string
	UserMeta          map[string]string
	ChecksumAlgorithm string // canonical, "" for none
	ChecksumType      string // FULL_OBJECT or COMPOSITE; "" picks the algorithm's default
	SSE               SSE    // the zero value takes the bucket default
}

// CreateUpload starts a multipart upload and returns it.
func (s *Service) CreateUpload(ctx context.Context, in CreateUploadInput) (Upload, error) {
	u, err := s.createUpload(ctx, in)
	return view(u, err, uploadOf)
}

// createUpload is CreateUpload, returning the stored record.
func (s *Service) createUpload(ctx context.Context, in CreateUploadInput) (meta.Upload, error) {
	if err := ValidKey(in.Key); err != nil {
		return meta.Upload{}, err
	}
	if err := checkUserMeta(in.UserMeta); err != nil {
		return meta.Upload{}, err
	}
	ctype := in.ChecksumType
	switch {
	case in.ChecksumAlgorithm == "" && ctype != "":
		return meta.Upload{}, fmt.Errorf("%w: checksum type without algorithm", ErrInvalidChecksum)
	case ctype == "" && in.ChecksumAlgorithm == CRC64NVME:
		ctype = FullObject
	case ctype == "" && in.ChecksumAlgorithm != "":
		ctype = Composite
	case ctype == FullObject && (in.ChecksumAlgorithm == SHA1 || in.ChecksumAlgorithm == SHA256):
		return meta.Upload{}, fmt.Errorf("%w: %s cannot be a full-object checksum", ErrInvalidChecksum, in.ChecksumAlgorithm)
	case ctype == Composite && in.ChecksumAlgorithm == CRC64NVME:
		return meta.Upload{}, fmt.Errorf("%w: CRC64NVME supports only full-object checksums", ErrInvalidChecksum)
	}
	u := meta.Upload{
		Bucket: in.Bucket, Key: in.Key, UploadID: newUploadID(), Initiated: s.nowUTC(), Owner: in.Owner,
		Headers: in.Headers, UserMeta: in.UserMeta, ChecksumAlgorithm: in.ChecksumAlgorithm, ChecksumType: ctype,
	}
	b, err := s.bucket(ctx, in.Bucket)
	if err != nil {
		return meta.Upload{}, err
	}
	if err := checkBlocked(in.SSE, b); err != nil {
		return meta.Upload{}, err
	}
	// The upload's key is made now and sealed for the upload; each part is its own stream
	// under it, and the completed object keeps the record.
	id := objectIdentity(u.Bucket, u.Key, u.UploadID)
	want, err := resolveSSE(in.SSE, b, id)
	if err != nil {
		return meta.Upload{}, err
	}
	keys, enc, err := s.newKey(ctx, want, id)
	if err != nil {
		return meta.Upload{}, err
	}
	keys.Destroy()
	u.Encryption = enc
	if err := s.meta.CreateUpload(ctx, u); err != nil {
		return meta.Upload{}, err
	}
	return u, nil
}

// Upload returns an in-progress upload (ErrNoSuchUpload).
func (s *Service) Upload(ctx context.Context, bucket, key, uploadID string) (Upload, error) {
	if _, err := s.bucket(ctx, bucket); err != nil {
		return Upload{}, err
	}
	u, err := s.meta.GetUpload(ctx, bucket, key, uploadID)
	return view(u, err, uploadOf)
}

// UploadPart stores one part, replacing an earlier part of the same number. ck is the
// customer key the part request presents: every part of an SSE-C upload needs the upload's
// key, no other upload takes one.
func (s *Service) UploadPart(ctx context.Context, u Upload, number int, body io.Reader, size int64, e Expect, ck secret.Key) (Part, error) {
	p, err := s.uploadPart(ctx, u.rec, number, body, size, e, ck)
	return view(p, err, partOf)
}

// uploadPart is UploadPart on the stored upload, returning the stored part.
func (s *Service) uploadPart(ctx context.Context, u meta.Upload, number int, body io.Reader, size int64, e Expect, ck secret.Key) (meta.Part, error) {
	if number < 1 || number > MaxPartNumber {
		return meta.Part{}, ErrInvalidPartNumber
	}
	if e.Algorithm == "" {
		e.Algorithm = u.ChecksumAlgorithm
	} else if u.ChecksumAlgorithm != "" && e.Algorithm != u.ChecksumAlgorithm {
		return meta.Part{}, fmt.Errorf("%w: part checksum %s differs from the upload's %s", ErrInvalidChecksum, e.Algorithm, u.ChecksumAlgorithm)
	}
	id := objectIdentity(u.Bucket, u.Key, u.UploadID)
	keys, err := s.uploadKey(ctx, u, id, ck)
	if err != nil {
		return meta.Part{}, err
	}
	defer keys.Destroy()
	id.PartNumber = number
	p, _, err := s.writeBlob(ctx, meta.Intent{Bucket: u.Bucket, Key: u.Key, UploadID: u.UploadID}, "p", body, size, e, streamKey{keys: keys, id: id})
	if err != nil {
		return meta.Part{}, err
	}
	defer s.settled(p.Blob)
	p.Number = number
	replaced, err := s.meta.PutPart(ctx, u.Bucket, u.Key, u.UploadID, p)
	if err != nil {
		s.freeUnlessUnknown(ctx, err, []meta.Part{p})
		return meta.Part{}, err
	}
	if replaced != nil {
		s.freeBlobs(ctx, meta.Intent{Bucket: u.Bucket, Key: u.Key, UploadID: u.UploadID}, []meta.Part{*replaced})
	}
	return p, nil
}

// CompletedPart is one entry of a CompleteMultipartUpload request.
type CompletedPart struct {
	Number    int
	ETag      string            // quotes allowed
	Checksums map[string]string // algorithm → base64, as the client sent them
}

// Complete assembles the listed parts into the object, atomically replacing any object of the
// same key. fullChecksum is an optional full-object checksum the client sent for the whole.
// A customer key (ck, zero for none) is optional, as in S3; one that is sent must be the
// upload's.
func (s *Service) Complete(ctx context.Context, u Upload, list []CompletedPart, fullChecksum string, cond WriteCondition, ck secret.Key) (Object, error) {
	o, err := s.complete(ctx, u.rec, list, fullChecksum, cond, ck)
	return view(o, err, objectOf)
}

// complete is Complete on the stored upload, returning the stored object.
func (s *Service) complete(ctx context.Context, u meta.Upload, list []CompletedPart, fullChecksum string, cond WriteCondition, ck secret.Key) (meta.Object, error) {
	if len(list) == 0 {
		return meta.Object{}, ErrMalformedCompletion
	}
	if !ck.IsZero() {
		if err := checkUploadCustomerKey(u, ck); err != nil {
			return meta.Object{}, err
		}
	}
	if err := s.precheck(ctx, u.Bucket, u.Key, cond); err != nil {
		return meta.Object{}, err
	}
	stored, err := s.meta.ListParts(ctx, u.Bucket, u.Key, u.UploadID, 0, 0)
	if errors.Is(err, meta.ErrNoSuchUpload) {
		return s.completedConcurrently(ctx, u, list)
	}
	if err != nil {
		return meta.Object{}, err
	}
	byNum := make(map[int]meta.Part, len(stored))
	for _, p := range stored {
		byNum[p.Number] = p
	}
	o := meta.Object{
		Bucket: u.Bucket, Key: u.Key, Owner: u.Owner, Headers: u.Headers, UserMeta: u.UserMeta,
		LastModified: s.nowUTC(), PartsCount: len(list), UploadID: u.UploadID, Encryption: u.Encryption,
	}
	etags := md5.New()
	var values []string
	var sizes []int64
	// S3 judges the list's order before it looks at any part.
	for i := 1; i < len(list); i++ {
		if list[i].Number <= list[i-1].Number {
			return meta.Object{}, ErrInvalidPartOrder
		}
	}
	for i, c := range list {
		p, ok := byNum[c.Number]
		if !ok || strings.Trim(c.ETag, `"`) != p.ETag {
			return meta.Object{}, fmt.Errorf("%w: part %d", ErrInvalidPart, c.Number)
		}
		if u.ChecksumAlgorithm != "" {
			if v, sent := c.Checksums[u.ChecksumAlgorithm]; sent && v != p.Checksums[u.ChecksumAlgorithm] {
				return meta.Object{}, fmt.Errorf("%w: part %d checksum", ErrInvalidPart, c.Number)
			}
			values = append(values, p.Checksums[u.ChecksumAlgorithm])
			sizes = append(sizes, p.Size)
		}
		if i < len(list)-1 && p.Size < MinPartSize {
			return meta.Object{}, fmt.Errorf("%w: part %d", ErrEntityTooSmall, c.Number)
		}
		raw, _ := hex.DecodeString(p.ETag)
		etags.Write(raw)
		o.Size += p.Size
		o.Parts = append(o.Parts, p)
	}
	o.ETag = hex.EncodeToString(etags.Sum(nil)) + "-" + itoa(len(list))
	if u.ChecksumAlgorithm != "" {
		var sum string
		var ok bool
		if u.ChecksumType == FullObject {
			sum, ok = FullObjectCRC(u.ChecksumAlgorithm, values, sizes)
		} else {
			sum, ok = CompositeChecksum(u.ChecksumAlgorithm, values)
		}
		if !ok {
			return meta.Object{}, fmt.Errorf("%w: parts lack %s checksums", ErrInvalidPart, u.ChecksumAlgorithm)
		}
		if fullChecksum != "" && fullChecksum != sum && fullChecksum+"-"+itoa(len(list)) != sum {
			return meta.Object{}, &DigestError{u.ChecksumAlgorithm}
		}
		o.Checksums = map[string]string{u.ChecksumAlgorithm: sum}
		o.ChecksumType = u.ChecksumType
	}
	replaced, unused, err := s.meta.CompleteUpload(ctx, u.UploadID, o, cond.conditions()...)
	if errors.Is(err, meta.ErrPartChanged) {
		return meta.Object{}, fmt.Errorf("%w: %w", ErrInvalidPart, err)
	}
	if errors.Is(err, meta.ErrNoSuchUpload) {
		return s.completedConcurrently(ctx, u, list)
	}
	if err != nil {
		return meta.Object{}, err
	}
	if replaced != nil {
		s.freeBlobs(ctx, meta.Intent{Bucket: u.Bucket, Key: u.Key}, replaced.Parts)
	}
	s.freeBlobs(ctx, meta.Intent{Bucket: u.Bucket, Key: u.Key, UploadID: u.UploadID}, unused)
	return o, nil
}

// completedConcurrently answers a completion whose upload vanished while it ran: a concurrent
// completion of the same upload (from any node) won the race, and this one succeeds with its
// object when it names the same parts. An upload gone for another reason is ErrNoSuchUpload.
func (s *Service) completedConcurrently(ctx context.Context, u meta.Upload, list []CompletedPart) (meta.Object, error) {
	o, err := s.completedBy(ctx, u.Bucket, u.Key, u.UploadID)
	if err != nil {
		return meta.Object{}, err
	}
	return o, SameCompletion(objectOf(o), list)
}

// CompletedBy finds the object a completed upload made, to answer a CompleteMultipartUpload
// repeated after it succeeded (an SDK retrying a lost response): the key's object while
// uploadID made it. The answer comes from the object record alone, so any node sharing the
// metadata store gives it. An upload id that made no current object (never existed, aborted,
// or its object since overwritten or deleted) is ErrNoSuchUpload. It needs no request
// body, so a retry of a gone upload is refused before the client sends one.
func (s *Service) CompletedBy(ctx context.Context, bucket, key, uploadID string) (Object, error) {
	o, err := s.completedBy(ctx, bucket, key, uploadID)
	return view(o, err, objectOf)
}

// completedBy is CompletedBy, returning the stored object.
func (s *Service) completedBy(ctx context.Context, bucket, key, uploadID string) (meta.Object, error) {
	o, err := s.meta.GetObject(ctx, bucket, key)
	if errors.Is(err, meta.ErrNoSuchKey) || err == nil && (uploadID == "" || o.UploadID != uploadID) {
		return meta.Object{}, meta.ErrNoSuchUpload
	}
	return o, err
}

// SameCompletion checks that a repeated completion names exactly the parts o was completed
// with; a different list is ErrInvalidPart.
func SameCompletion(o Object, list []CompletedPart) error {
	if len(list) != len(o.Parts) {
		return fmt.Errorf("%w: the upload was completed with %d parts", ErrInvalidPart, len(o.Parts))
	}
	for i, c := range list {
		if p := o.Parts[i]; c.Number != p.Number || strings.Trim(c.ETag, `"`) != p.ETag {
			return fmt.Errorf("%w: part %d is not the one the upload was completed with", ErrInvalidPart, c.Number)
		}
	}
	return nil
}

// Abort removes an upload and frees its parts.
func (s *Service) Abort(ctx context.Context, bucket, key, uploadID string) error {
	if _, err := s.bucket(ctx, bucket); err != nil {
		return err
	}
	parts, err := s.meta.AbortUpload(ctx, bucket, key, uploadID)
	if err != nil {
		return err
	}
	s.freeBlobs(ctx, meta.Intent{Bucket: bucket, Key: key, UploadID: uploadID}, parts)
	return nil
}

// Parts lists an upload's parts with numbers above after, at most limit.
func (s *Service) Parts(ctx context.Context, u Upload, after, limit int) ([]Part, error) {
	parts, err := s.meta.ListParts(ctx, u.Bucket, u.Key, u.UploadID, after, limit)
	return view(parts, err, partsOf)
}

// Uploads lists a bucket's in-progress uploads.
func (s *Service) Uploads(ctx context.Context, bucket string, opt ListOptions, afterUploadID string) ([]Upload, error) {
	if _, err := s.bucket(ctx, bucket); err != nil {
		return nil, err
	}
	us, err := s.meta.ListUploads(ctx, bucket, meta.ListOptions{Prefix: opt.Prefix, After: opt.After, Limit: opt.Limit}, afterUploadID)
	return view(us, err, uploadsOf)
}

// uploadKey opens the object key of an upload. Uploads started before encryption existed have
// none: their parts are refused rather than stored in plaintext.
func (s *Service) uploadKey(ctx context.Context, u meta.Upload, id sse.Identity, ck secret.Key) (objectKeys, error) {
	if u.Encryption == nil {
		return objectKeys{}, fmt.Errorf("%w: upload %s has no encryption record; start a new upload", ErrSSEUnsupported, u.UploadID)
	}
	if err := checkUploadCustomerKey(u, ck); err != nil {
		return objectKeys{}, err
	}
	return s.openKey(ctx, u.Encryption, id, ck)
}
