package object

import (
	"context"
	"errors"
	"fmt"

	"github.com/coffer/coffer/internal/meta"
)

// S3 Object Ownership settings, by their S3 names. Coffer has one principal per account, so
// whoever writes an object owns the bucket too: the settings differ only in whether S3 would
// accept ACLs, and the wire layer accepts none but the owner's own full control either way.
const (
	// OwnershipEnforced disables ACLs; S3's default for new buckets since April 2023.
	OwnershipEnforced = "BucketOwnerEnforced"
	// OwnershipPreferred enables ACLs; objects written with bucket-owner-full-control go to
	// the bucket owner.
	OwnershipPreferred = "BucketOwnerPreferred"
	// OwnershipObjectWriter enables ACLs; the writer owns what it writes. S3 behaves so for a
	// bucket whose ownership controls were deleted.
	OwnershipObjectWriter = "ObjectWriter"
)

// ownershipDeleted is stored when a bucket's ownership controls are deleted; "" stands for
// OwnershipEnforced, so records from before the setting existed keep S3's default.
const ownershipDeleted = "-"

// Error classes of ownership controls.
var (
	ErrInvalidOwnership    = errors.New("object: invalid object ownership setting")
	ErrNoOwnershipControls = errors.New("object: bucket has no ownership controls")
)

// ValidOwnership reports whether s is one of the three Object Ownership settings.
func ValidOwnership(s string) bool {
	return s == OwnershipEnforced || s == OwnershipPreferred || s == OwnershipObjectWriter
}

// Ownership returns the bucket's Object Ownership setting, or ErrNoOwnershipControls.
func Ownership(b Bucket) (string, error) {
	switch b.ObjectOwnership {
	case "":
		return OwnershipEnforced, nil
	case ownershipDeleted:
		return "", ErrNoOwnershipControls
	}
	return b.ObjectOwnership, nil
}

// ACLsEnabled reports whether S3 would accept ACLs on the bucket: any setting but
// BucketOwnerEnforced, and no ownership controls at all.
func ACLsEnabled(b Bucket) bool {
	s, err := Ownership(b)
	return err != nil || s != OwnershipEnforced
}

// SetOwnership stores the bucket's Object Ownership setting.
func (s *Service) SetOwnership(ctx context.Context, bucket, setting string) error {
	if !ValidOwnership(setting) {
		return ErrInvalidOwnership
	}
	return s.updateOwnership(ctx, bucket, setting)
}

// DeleteOwnership removes the bucket's ownership controls, leaving ACLs enabled as S3 does.
func (s *Service) DeleteOwnership(ctx context.Context, bucket string) error {
	return s.updateOwnership(ctx, bucket, ownershipDeleted)
}

func (s *Service) updateOwnership(ctx context.Context, bucket, stored string) error {
	if !ValidBucketName(bucket) {
		return meta.ErrNoSuchBucket
	}
	err := s.meta.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		b.ObjectOwnership = stored
		return nil
	})
	if err != nil {
		return fmt.Errorf("set ownership of %q: %w", bucket, err)
	}
	return nil
}
