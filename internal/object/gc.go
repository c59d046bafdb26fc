package object

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/meta"
)

// Sweeping what interrupted writes left. A blob is stored under a write intent (meta.Intent)
// that the metadata commit naming the blob drops in the same transaction, so an intent that
// outlives every write in progress names a blob no record refers to: the orphan of a write
// that a crash or an unknown commit outcome interrupted. The sweep deletes exactly those blobs
// and nothing else. It never asks "which blobs does the metadata not name?": a damaged or
// mis-opened metadata store would answer "all of them". A blob that neither a record nor an
// intent names is left alone and reported by `coffer admin check`.
//
// An intent of a write this process is still making (Service.writing) is skipped whatever its
// time says: the sweep runs while requests are served, and the wall clock may step back.
//
// As a second line of defence the sweep looks up the object or upload an intent names and
// keeps a blob it finds referenced, and it refuses to run when it would delete more than
// sweepShare of the stored blobs.

const (
	// sweepShare is the largest fraction of all blobs one sweep may delete; sweepFloor the
	// number it may delete whatever the total (a crash with that many uploads in flight).
	sweepShare = 0.05
	sweepFloor = 64
)

// ErrSweepRefused means the sweep found more orphans than it may delete at once.
var ErrSweepRefused = errors.New("object: sweep refused")

// SweepInterrupted deletes the blobs of intents created before the given time, the start of
// every write that may still be running (a single server: its own start; several servers
// sharing the stores: now minus the longest a write may take), and drops those intents. It
// returns how many blobs it deleted.
func (s *Service) SweepInterrupted(ctx context.Context, before time.Time) (int, error) {
	intents, err := s.meta.ListIntents(ctx, before, 0)
	if err != nil || len(intents) == 0 {
		return 0, err
	}
	if len(intents) > sweepFloor {
		total, err := s.countBlobs(ctx)
		if err != nil {
			return 0, err
		}
		if float64(len(intents)) > sweepShare*float64(total) {
			return 0, fmt.Errorf("%w: %d interrupted writes would delete more than %.0f%% of the %d blobs; nothing deleted (run `coffer admin check`)", ErrSweepRefused, len(intents), 100*sweepShare, total)
		}
	}
	deleted := 0
	for _, in := range intents {
		if _, ok := s.writing.Load(in.Blob); ok {
			// A write of this process still running, whose intent only looks old (the clock
			// stepped back): its commit will drop the intent. A write that is not in the set
			// has settled, so its intent, if still there, names an orphan.
			continue
		}
		used, err := s.referenced(ctx, in)
		if err != nil {
			return deleted, fmt.Errorf("sweep %s: %w", in.Blob, err)
		}
		if used {
			// A store that broke the intent contract: keep the blob, forget the intent.
			s.log.ErrorContext(ctx, "write intent names a blob that metadata references; blob kept", "blob", in.Blob, "bucket", in.Bucket, "key", in.Key)
		} else {
			err := s.blobs.Delete(ctx, in.Blob)
			if err != nil && !errors.Is(err, blob.ErrNotFound) {
				return deleted, fmt.Errorf("delete orphan %s: %w", in.Blob, err)
			}
			if err == nil {
				deleted++
			}
		}
		if err := s.meta.DropIntent(ctx, in.Blob); err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

// referenced reports whether the object or the upload an intent names refers to its blob (a
// part's blob may have moved into the completed object).
func (s *Service) referenced(ctx context.Context, in meta.Intent) (bool, error) {
	o, err := s.meta.GetObject(ctx, in.Bucket, in.Key)
	switch {
	case err == nil:
		if slices.ContainsFunc(o.Parts, func(p meta.Part) bool { return p.Blob == in.Blob }) {
			return true, nil
		}
	case !errors.Is(err, meta.ErrNoSuchKey) && !errors.Is(err, meta.ErrNoSuchBucket):
		return false, err
	}
	if in.UploadID == "" {
		return false, nil
	}
	parts, err := s.meta.ListParts(ctx, in.Bucket, in.Key, in.UploadID, 0, 0)
	if errors.Is(err, meta.ErrNoSuchUpload) || errors.Is(err, meta.ErrNoSuchBucket) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(parts, func(p meta.Part) bool { return p.Blob == in.Blob }), nil
}

// countBlobs counts the object and part blobs stored.
func (s *Service) countBlobs(ctx context.Context) (int, error) {
	n := 0
	for _, prefix := range []string{"o/", "p/"} {
		err := s.blobs.List(ctx, prefix, func(string, int64) error { n++; return nil })
		if err != nil {
			return 0, fmt.Errorf("list blobs: %w", err)
		}
	}
	return n, nil
}
