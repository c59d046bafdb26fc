package server

import (
	"context"
	"time"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/object"
)

// DefaultSharedSweepEvery is how often a node sharing its stores sweeps: often enough that
// freed blobs go soon after object.Config.FreeAfter, rarely enough that listing the intents
// costs the shared metadata store little.
const DefaultSharedSweepEvery = 5 * time.Minute

// startSharedSweep is startSweep for a node that shares its metadata and blob stores with
// other nodes (objects made with object.Config.Shared): no node can tell when the writes of
// the others began, so instead of one sweep bounded by its own start it sweeps now and then
// every `every` (0: DefaultSharedSweepEvery), deleting what object.Service.Sweep finds due
// (writes older than MaxWriteAge, freed blobs older than FreeAfter), and has the blob store
// clean its own leftovers of Puts older than MaxWriteAge where it keeps any (blob.Janitor:
// fsblob's temp files, s3blob's multipart uploads). Every node may run it: the sweeps of
// several nodes at once are safe. Swept is closed after the first round.
func (s *Server) startSharedSweep(ctx context.Context, objects *object.Service, blobs blob.Store, every time.Duration) {
	if every <= 0 {
		every = DefaultSharedSweepEvery
	}
	janitor, _ := blobs.(blob.Janitor)
	s.jobs.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		first := true
		for {
			s.sweepShared(ctx, objects, janitor)
			if first {
				close(s.swept)
				first = false
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

// sweepShared is one round of startSharedSweep; its failures are logged, and the next round
// tries again.
func (s *Server) sweepShared(ctx context.Context, objects *object.Service, janitor blob.Janitor) {
	var swept object.Swept
	err := boltfile.Safely(func() error {
		var err error
		swept, err = objects.Sweep(ctx)
		return err
	})
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Error("sweeping interrupted writes and freed blobs failed; the next round tries again", "err", err)
	case swept != object.Swept{}:
		s.log.Info("deleted blobs of interrupted writes and freed blobs", "interrupted", swept.Interrupted, "freed", swept.Freed)
	}
	if janitor == nil {
		return
	}
	n, err := janitor.Clean(ctx, time.Now().Add(-objects.MaxWriteAge()))
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Error("cleaning the blob store's leftovers of dead writers failed; the next round tries again", "err", err)
	case n > 0:
		s.log.Info("cleaned the blob store's leftovers of dead writers", "count", n)
	}
}
