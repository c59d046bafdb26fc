package kms

import (
	"context"
	"errors"
	"time"
)

var errNotDue = errors.New("kms: not due")

// tickJob is what the scheduler has to do with a key.
type tickJob int

const (
	jobNone tickJob = iota
	jobDestroy
	jobRotate
	jobExpireMaterial
	jobExpireImportParams
)

// dueJob returns the job due on k at now, the first of them when several are.
func dueJob(k *Key, now time.Time) tickJob {
	switch {
	case k.State == StatePendingDeletion && !k.DeletionDate.After(now):
		return jobDestroy
	case k.Origin == OriginExternal && !k.ValidTo.IsZero() && !k.ValidTo.After(now) && len(k.Versions) > 0:
		return jobExpireMaterial
	case k.Rotation.Enabled && k.State == StateEnabled && !k.Rotation.Next.IsZero() && !k.Rotation.Next.After(now):
		return jobRotate
	case importParamsExpired(k, now):
		return jobExpireImportParams
	}
	return jobNone
}

// Tick runs every job that is due at the service clock's current time: destroying keys whose
// deletion date has passed, automatic rotations, expiring imported key material and the
// wrapping keys of expired import parameters (one job per key per tick). It returns
// the first error met after trying every job. Run calls it periodically; tests call it directly
// with an injected clock.
func (s *Service) Tick(ctx context.Context) error {
	now := s.now().UTC()
	var due []*Key
	err := s.store.ScanKeys(ctx, func(k *Key) bool {
		if dueJob(k, now) != jobNone {
			due = append(due, k)
		}
		return true
	})
	// A scan error (such as a damaged record) is reported, but the keys it did yield are still
	// deleted, rotated and expired on time.
	first := err
	for _, k := range due {
		var err error
		switch dueJob(k, now) {
		case jobDestroy:
			err = s.destroy(ctx, k.ID, now)
		case jobExpireMaterial:
			err = s.expireImport(ctx, k.ID, now)
		case jobExpireImportParams:
			err = s.expireImportParams(ctx, k.ID, now)
		case jobRotate:
			err = s.rotateDue(ctx, k.ID, now)
		}
		if err != nil && !errors.Is(err, errNotDue) && !errors.Is(err, ErrStoreNoSuchKey) && first == nil {
			first = err
		}
	}
	return first
}

// destroy deletes a key whose waiting period is over: record, aliases, grants and material.
func (s *Service) destroy(ctx context.Context, id string, now time.Time) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	k, err := s.store.GetKey(ctx, id)
	if err != nil {
		return err
	}
	if k.State != StatePendingDeletion || k.DeletionDate.After(now) {
		return errNotDue
	}
	if k.CustomKeyStoreID != "" {
		s.destroyInHSM(ctx, k)
	}
	// The material is destroyed before the record drops it (SPEC.md §8.3): a crash between
	// leaves a record whose material is gone, which the next tick deletes, never material
	// that outlives its record.
	if err := s.shredSlots(ctx, slotsOf(k)...); err != nil {
		return err
	}
	if err := s.store.DeleteKey(ctx, id); err != nil {
		return err
	}
	s.forget(id)
	s.publish(ctx, TopicKey, id)
	s.forgetUsage(id)
	s.grantsChanged(ctx, id)
	s.aliasesChanged(ctx, k.Account)
	s.log.InfoContext(ctx, "kms key deleted", "key", id)
	if !k.Owned {
		s.serviceEvent(ctx, k, "DeleteKey", nil)
	}
	return nil
}

// expireImport deletes imported material whose ValidTo has passed; the key becomes PendingImport.
func (s *Service) expireImport(ctx context.Context, id string, now time.Time) error {
	e, err := s.update(ctx, id, func(k *Key) error {
		if k.ValidTo.IsZero() || k.ValidTo.After(now) || len(k.Versions) == 0 {
			return errNotDue
		}
		return s.dropMaterial(ctx, k)
	})
	if err == nil {
		s.serviceEvent(ctx, e.key, "DeleteExpiredKeyMaterial", nil)
	}
	return err
}

// SchedulerLease names the lease Run holds while it ticks (Config.Lease).
const SchedulerLease = "kms-scheduler"

// schedulerLeaseTicks is how many intervals the scheduler's lease lasts unrenewed: a node that
// stops leaves the scheduler to another within that many ticks, and one slow tick does not
// lose it.
const schedulerLeaseTicks = 3

// Run calls Tick every interval until ctx is done, logging failures. With a Config.Lease, a
// tick runs only while this node holds SchedulerLease, renewed before each tick. Two nodes
// may still tick at once (a holder that stalls past the lease): every job re-checks that it
// is due inside the transaction that carries it out, so it is done once.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if s.holdsScheduler(ctx, interval) {
			if err := s.Tick(ctx); err != nil {
				s.log.ErrorContext(ctx, "kms scheduler", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// holdsScheduler takes or renews the scheduler's lease, reporting whether this node may tick.
func (s *Service) holdsScheduler(ctx context.Context, interval time.Duration) bool {
	if s.lease == nil {
		return true
	}
	held, err := s.lease(ctx, SchedulerLease, schedulerLeaseTicks*interval)
	if err != nil && ctx.Err() == nil {
		s.log.Error("kms scheduler: the lease could not be taken; not ticking", "err", err)
	}
	return held && err == nil
}

// importParamsExpired reports whether k holds the wrapping key of import parameters that
// have expired (GetParametersForImport's 24 hours).
func importParamsExpired(k *Key, now time.Time) bool {
	return k.Import != nil && len(k.Import.Sealed) > 0 && !k.Import.ValidTo.After(now)
}

// expireImportParams destroys the wrapping key of expired import parameters (its shred slot
// before the record drops it). The token stays known, so that ImportKeyMaterial with it is
// still ExpiredImportTokenException.
func (s *Service) expireImportParams(ctx context.Context, id string, now time.Time) error {
	_, err := s.update(ctx, id, func(k *Key) error {
		if !importParamsExpired(k, now) {
			return errNotDue
		}
		if err := s.shredSlots(ctx, k.Import.Slot); err != nil {
			return err
		}
		imp := *k.Import
		imp.Sealed, imp.Slot = nil, 0
		k.Import = &imp
		return nil
	})
	return err
}
