package object

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/coffer/coffer/internal/meta"
)

// ValidBucketName reports whether name follows S3's rules for general purpose buckets.
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	first, last := name[0], name[len(name)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' {
		return false
	}
	if strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return false
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}

// CreateBucket creates a bucket owned by owner in region ("" for us-east-1), with an Object
// Ownership setting ("" for S3's default, OwnershipEnforced).
func (s *Service) CreateBucket(ctx context.Context, owner, name, region, ownership string) error {
	if !ValidBucketName(name) {
		return ErrInvalidBucketName
	}
	if ownership != "" && !ValidOwnership(ownership) {
		return ErrInvalidOwnership
	}
	if ownership == OwnershipEnforced {
		ownership = "" // stored as the default, which it is
	}
	err := s.meta.CreateBucket(ctx, meta.Bucket{Name: name, Region: region, Owner: owner, Created: s.nowUTC(), ObjectOwnership: ownership,
		Encryption: s.newBucketEncryption(), PublicAccessBlock: newBucketPublicAccessBlock()})
	if errors.Is(err, meta.ErrBucketExists) {
		b, gerr := s.meta.GetBucket(ctx, name)
		if gerr == nil && b.Owner == owner {
			return ErrBucketAlreadyOwnedByYou
		}
		return ErrBucketAlreadyExists
	}
	if err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	return nil
}

// newBucketEncryption is the encryption record a new bucket starts with: none (SSE-S3 by
// default), except that SSE-C writes are blocked as S3 does for new buckets since April 2026,
// unless the server allows SSE-C on new buckets. The record travels with the bucket, so every
// node sharing the metadata store enforces it alike.
func (s *Service) newBucketEncryption() *meta.BucketEncryption {
	if s.allowSSECOnNewBuckets {
		return nil
	}
	return &meta.BucketEncryption{Algorithm: meta.SSES3, BlockedEncryptionTypes: []string{BlockedSSEC}}
}

// Bucket returns a bucket's settings (ErrNoSuchBucket).
func (s *Service) Bucket(ctx context.Context, name string) (Bucket, error) {
	b, err := s.bucket(ctx, name)
	return view(b, err, bucketOf)
}

// bucket returns a bucket's stored record (meta.ErrNoSuchBucket).
func (s *Service) bucket(ctx context.Context, name string) (meta.Bucket, error) {
	if !ValidBucketName(name) {
		return meta.Bucket{}, meta.ErrNoSuchBucket
	}
	return s.meta.GetBucket(ctx, name)
}

// DeleteBucket removes a bucket that holds no object, aborting its in-progress uploads.
func (s *Service) DeleteBucket(ctx context.Context, name string) error {
	if !ValidBucketName(name) {
		return meta.ErrNoSuchBucket
	}
	parts, err := s.meta.DeleteBucket(ctx, name)
	if err != nil {
		return err
	}
	s.freeBlobs(ctx, meta.Intent{Bucket: name}, parts) // the parts of its uploads
	return nil
}

// ListBuckets returns the buckets owned by owner, by name.
func (s *Service) ListBuckets(ctx context.Context, owner string) ([]Bucket, error) {
	all, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Bucket, 0, len(all))
	for _, b := range all {
		if b.Owner == owner {
			out = append(out, bucketOf(b))
		}
	}
	return out, nil
}
