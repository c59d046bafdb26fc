package object

import (
	"context"
	"errors"
	"fmt"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/meta"
)

// Garbage collection of orphan blobs. A blob is published before the metadata that references
// it is committed, so a crash between the two leaves a blob nothing references: invisible, but
// space. At start, before serving, the server takes the names of all blobs (BlobNames); the
// blobs among them that no metadata references afterwards (SweepOrphans) can only be such
// orphans, since every blob written later has a new name.

// BlobNames returns the names of every object and part blob now stored.
func (s *Service) BlobNames(ctx context.Context) (map[string]bool, error) {
	names := map[string]bool{}
	for _, prefix := range []string{"o/", "p/"} {
		err := s.blobs.List(ctx, prefix, func(name string, _ int64) error {
			names[name] = true
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list blobs: %w", err)
		}
	}
	return names, nil
}

// SweepOrphans deletes the blobs among candidates that no object or upload references, and
// returns how many it deleted. Uploads are scanned before objects: a completion moves part
// blobs from an upload to an object, never back, so a blob in use is seen in one or the other.
func (s *Service) SweepOrphans(ctx context.Context, candidates map[string]bool) (int, error) {
	if len(candidates) == 0 {
		return 0, nil
	}
	buckets, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return 0, err
	}
	for _, b := range buckets {
		if err := s.unmarkUploads(ctx, b.Name, candidates); err != nil {
			return 0, err
		}
	}
	for _, b := range buckets {
		if err := s.unmarkObjects(ctx, b.Name, candidates); err != nil {
			return 0, err
		}
	}
	deleted := 0
	for name := range candidates {
		err := s.blobs.Delete(ctx, name)
		if err != nil && !errors.Is(err, blob.ErrNotFound) {
			return deleted, fmt.Errorf("delete orphan %s: %w", name, err)
		}
		if err == nil {
			deleted++
		}
	}
	return deleted, nil
}

func (s *Service) unmarkUploads(ctx context.Context, bucket string, candidates map[string]bool) error {
	opt := meta.ListOptions{Limit: pageBatch}
	afterID := ""
	for {
		ups, err := s.meta.ListUploads(ctx, bucket, opt, afterID)
		if errors.Is(err, meta.ErrNoSuchBucket) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, u := range ups {
			parts, err := s.meta.ListParts(ctx, bucket, u.Key, u.UploadID, 0, 0)
			if err != nil && !errors.Is(err, meta.ErrNoSuchUpload) {
				return err
			}
			for _, p := range parts {
				delete(candidates, p.Blob)
			}
		}
		if len(ups) < pageBatch {
			return nil
		}
		last := ups[len(ups)-1]
		opt.After, afterID = last.Key, last.UploadID
	}
}

func (s *Service) unmarkObjects(ctx context.Context, bucket string, candidates map[string]bool) error {
	opt := meta.ListOptions{Limit: pageBatch}
	for {
		objs, err := s.meta.ListObjects(ctx, bucket, opt)
		if errors.Is(err, meta.ErrNoSuchBucket) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, o := range objs {
			for _, p := range o.Parts {
				delete(candidates, p.Blob)
			}
		}
		if len(objs) < pageBatch {
			return nil
		}
		opt.After = objs[len(objs)-1].Key
	}
}
