package object

import (
	"context"
	"errors"

	"github.com/coffer/coffer/internal/meta"
)

// DeleteObject removes an object. Deleting a missing key succeeds, as in S3, unless the delete
// is conditional (If-Match), which needs the object; a missing bucket is ErrNoSuchBucket.
func (s *Service) DeleteObject(ctx context.Context, bucket, key string, cond WriteCondition) error {
	if !ValidBucketName(bucket) {
		return meta.ErrNoSuchBucket
	}
	o, err := s.meta.DeleteObject(ctx, bucket, key, cond.conditions()...)
	if errors.Is(err, meta.ErrNoSuchKey) && cond.none() {
		return nil
	}
	if err != nil {
		return err
	}
	s.freeBlobs(ctx, meta.Intent{Bucket: bucket, Key: key}, o.Parts)
	return nil
}
