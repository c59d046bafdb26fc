package s3blob

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/blob"
)

// Delete implements blob.Store. It HEADs first because S3's DELETE answers 204 whether or not
// the key existed; so of two racing Deletes of one blob both may succeed.
func (s *Store) Delete(ctx context.Context, name string) error {
	if !blob.ValidName(name) {
		return fmt.Errorf("s3blob: delete %q: %w", name, blob.ErrInvalidName)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3blob: delete %q: %w", name, err)
	}
	if _, err := s.head(ctx, s.key(name)); err != nil {
		return fmt.Errorf("s3blob: delete %q: %w", name, err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.key(name))})
	if err != nil {
		return fmt.Errorf("s3blob: delete %q: %w", name, err)
	}
	return nil
}

// List implements blob.Store. Keys under the prefix that are not valid blob names (written
// by something else) are skipped.
func (s *Store) List(ctx context.Context, prefix string, fn func(name string, size int64) error) error {
	return s.ListInfo(ctx, prefix, func(i blob.Info) error { return fn(i.Name, i.Size) })
}

// ListInfo implements blob.InfoLister: Modified is the object's LastModified, set by the
// store's clock when the write completed.
func (s *Store) ListInfo(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix + prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3blob: list %q: %w", prefix, err)
		}
		for _, o := range page.Contents {
			name, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok || !blob.ValidName(name) {
				continue
			}
			err := fn(blob.Info{Name: name, Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified)})
			if err != nil {
				return fmt.Errorf("s3blob: list %q: %w", prefix, err)
			}
		}
	}
	return nil
}

var _ blob.Janitor = (*Store)(nil)

// Clean implements blob.Janitor: it is AbortStale.
func (s *Store) Clean(ctx context.Context, cutoff time.Time) (int, error) {
	return s.AbortStale(ctx, cutoff)
}

// AbortStale aborts the multipart uploads under the prefix begun before cutoff: those of Puts
// whose process died before it could abort them. cutoff must leave room for the longest Put
// in flight on any node (a day is ample), since an upload's age is all that tells it from a
// live one. It returns how many it aborted.
func (s *Store) AbortStale(ctx context.Context, cutoff time.Time) (int, error) {
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(s.prefix)}
	aborted := 0
	for {
		page, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return aborted, fmt.Errorf("s3blob: list multipart uploads: %w", err)
		}
		for _, u := range page.Uploads {
			if !aws.ToTime(u.Initiated).Before(cutoff) {
				continue
			}
			if err := s.abort(ctx, aws.ToString(u.Key), u.UploadId); err != nil {
				return aborted, fmt.Errorf("s3blob: %w", err)
			}
			aborted++
		}
		if !aws.ToBool(page.IsTruncated) {
			return aborted, nil
		}
		if page.NextKeyMarker == nil && page.NextUploadIdMarker == nil {
			return aborted, errors.New("s3blob: list multipart uploads: truncated page without a marker")
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}
