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

// Sweeping what interrupted writes left, and what shared nodes freed. A blob is stored under
// a write intent (meta.Intent) that the metadata commit naming the blob drops in the same
// transaction, so an intent that outlives every write in progress names a blob no record
// refers to: the orphan of a write that a crash or an unknown commit outcome interrupted. The
// sweep deletes exactly those blobs, and those of freed intents (Config.Shared), and nothing
// else. It never asks "which blobs does the metadata not name?": a damaged or mis-opened
// metadata store would answer "all of them". A blob that neither a record nor an intent names
// is left alone and reported by `coffer admin check`.
//
// When a write is over depends on who may be writing. A single server (the embedded default)
// runs SweepInterrupted once at start-up, with its own start as the bound. Nodes sharing their
// stores cannot know each other's writes, so each runs Sweep every few minutes, which takes a
// write intent older than MaxWriteAge as interrupted, and deletes the blob of a freed intent
// once FreeAfter has passed. Several nodes may sweep at once: each checks references before
// deleting, a blob already deleted (blob.ErrNotFound) counts as done, and dropping an intent
// twice is harmless.
//
// An intent of a write this process is still making (Service.writing) is skipped whatever its
// time says: the sweep runs while requests are served, and the wall clock may step back.
//
// As a second line of defence the sweep looks up the object or upload an intent names and
// keeps a blob it finds referenced, and it refuses to run when its write intents would delete
// more than sweepShare of the stored blobs. Freed intents do not count towards that share: a
// bulk delete legitimately frees a large share of the blobs at once, and a freed intent is
// recorded only after a commit removed its blob's last reference, so the damage the share
// guards against (metadata that lost the records of blobs its write intents name, or a store
// opened on the wrong data) cannot make one name a blob in use; the reference check applies to
// freed intents all the same.

const (
	// sweepShare is the largest fraction of all blobs one sweep may delete for write intents;
	// sweepFloor the number it may delete whatever the total (a crash with that many uploads
	// in flight).
	sweepShare = 0.05
	sweepFloor = 64
)

// ErrSweepRefused means the sweep found more orphans than it may delete at once.
var ErrSweepRefused = errors.New("object: sweep refused")

// SweepInterrupted deletes the blobs of intents created before the given time, the start of
// every write that may still be running (a single server: its own start), and drops those
// intents. It returns how many blobs it deleted. Nodes sharing their stores run Sweep instead.
func (s *Service) SweepInterrupted(ctx context.Context, before time.Time) (int, error) {
	swept, err := s.sweep(ctx, before, before)
	return swept.Interrupted + swept.Freed, err
}

// Swept counts the blobs one sweep deleted, by the kind of intent that named them. With
// several nodes sweeping at once, a blob two of them delete counts on both where the store cannot
// tell the second delete that the blob was gone (S3's DELETE answers alike either way).
type Swept struct {
	Interrupted int // blobs of writes that never committed
	Freed       int // blobs freed at least FreeAfter ago
}

// Sweep is the periodic sweep of a node sharing its stores (Config.Shared): it deletes the
// blobs of write intents older than MaxWriteAge and of freed intents older than FreeAfter,
// and drops those intents. Run it every few minutes on any or every node.
func (s *Service) Sweep(ctx context.Context) (Swept, error) {
	now := s.now()
	return s.sweep(ctx, now.Add(-s.maxWriteAge), now.Add(-s.freeAfter))
}

// outlived reports whether a write begun at start took too long to commit on shared stores:
// another node's Sweep takes its intent for an interrupted write's once MaxWriteAge has passed
// (by that node's clock), so a blob stored later than writeAgeShare of it is given up rather
// than committed, lest the commit name a blob the sweep deletes. The rest of MaxWriteAge covers
// the commit and the clocks' skew.
func (s *Service) outlived(start time.Time) bool {
	return s.shared && s.now().Sub(start) > time.Duration(writeAgeShare*float64(s.maxWriteAge))
}

// writeAgeShare is the share of MaxWriteAge a write on shared stores may take to store its blob.
const writeAgeShare = 0.9

// MaxWriteAge is the bound Sweep puts on a write of any node (Config.MaxWriteAge): what a
// server sharing its blob store also leaves alone of the store's own leftovers (blob.Janitor).
func (s *Service) MaxWriteAge() time.Duration { return s.maxWriteAge }

// sweep deletes the blobs of write intents created before writes and of freed intents
// created before freed.
func (s *Service) sweep(ctx context.Context, writes, freed time.Time) (Swept, error) {
	var swept Swept
	listed, err := s.meta.ListIntents(ctx, latest(writes, freed), 0)
	if err != nil || len(listed) == 0 {
		return swept, err
	}
	var intents []meta.Intent
	interrupted := 0
	for _, in := range listed {
		switch {
		case in.Kind == meta.IntentFreed && in.Created.Before(freed):
		case in.Kind == meta.IntentWrite && in.Created.Before(writes):
			interrupted++
		default:
			continue
		}
		intents = append(intents, in)
	}
	if interrupted > sweepFloor {
		total, err := s.countBlobs(ctx)
		if err != nil {
			return swept, err
		}
		if float64(interrupted) > sweepShare*float64(total) {
			return swept, fmt.Errorf("%w: %d interrupted writes would delete more than %.0f%% of the %d blobs; nothing deleted (run `coffer admin check`)", ErrSweepRefused, interrupted, 100*sweepShare, total)
		}
	}
	for _, in := range intents {
		if _, ok := s.writing.Load(in.Blob); ok {
			// A write of this process still running, whose intent only looks old (the clock
			// stepped back): its commit will drop the intent. A write that is not in the set
			// has settled, so its intent, if still there, names an orphan.
			continue
		}
		used, err := s.referenced(ctx, in)
		if err != nil {
			return swept, fmt.Errorf("sweep %s: %w", in.Blob, err)
		}
		if used {
			// A store that broke the intent contract: keep the blob, forget the intent.
			s.log.ErrorContext(ctx, "intent names a blob that metadata references; blob kept", "kind", in.Kind, "blob", in.Blob, "bucket", in.Bucket, "key", in.Key)
		} else {
			err := s.blobs.Delete(ctx, in.Blob)
			if err != nil && !errors.Is(err, blob.ErrNotFound) {
				return swept, fmt.Errorf("delete %s blob %s: %w", in.Kind, in.Blob, err)
			}
			if err == nil && in.Kind == meta.IntentFreed {
				swept.Freed++
			} else if err == nil {
				swept.Interrupted++
			}
		}
		if err := s.meta.DropIntent(ctx, in.Blob); err != nil {
			return swept, err
		}
	}
	return swept, nil
}

// latest returns the later of two times.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
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
