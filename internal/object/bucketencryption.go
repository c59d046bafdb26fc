package object

import (
	"context"
	"fmt"
	"slices"

	"github.com/coffer/coffer/internal/meta"
)

// SetBucketEncryption stores a bucket's default encryption (SSE-S3, SSE-KMS or DSSE-KMS); nil
// resets it to SSE-S3. A KMS key is not checked here, as in S3: writes report its failures.
// Blocking SSE-C is a security setting apart from the default: a configuration without
// BlockedEncryptionTypes, and the reset, keep the bucket's current one, so that only an
// explicit NONE unblocks SSE-C.
func (s *Service) SetBucketEncryption(ctx context.Context, bucket string, in *BucketEncryption) error {
	cfg := in.stored()
	if !ValidBucketName(bucket) {
		return meta.ErrNoSuchBucket
	}
	if cfg != nil {
		if cfg.Algorithm != meta.SSES3 && cfg.Algorithm != meta.SSEKMS && cfg.Algorithm != meta.SSEKMSDSSE {
			return fmt.Errorf("%w: bucket default %s", ErrSSEUnsupported, cfg.Algorithm)
		}
	}
	return s.meta.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		b.Encryption = keepBlocked(cfg, b.Encryption)
		return nil
	})
}

// keepBlocked returns the configuration next to store in place of old, with old's
// BlockedEncryptionTypes where next names none. It leaves next as it is: UpdateBucket may run
// its function again on a newer old, which must then count.
func keepBlocked(next, old *meta.BucketEncryption) *meta.BucketEncryption {
	if old == nil || len(old.BlockedEncryptionTypes) == 0 || next != nil && len(next.BlockedEncryptionTypes) > 0 {
		return next
	}
	out := meta.BucketEncryption{Algorithm: meta.SSES3}
	if next != nil {
		out = *next
	}
	out.BlockedEncryptionTypes = slices.Clone(old.BlockedEncryptionTypes)
	return &out
}
