package server

import (
	"context"
	"time"

	"github.com/coffer/coffer/internal/cluster"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/trail"
)

// Coordination of the nodes sharing the stores (internal/cluster): the services announce
// their changes through published and hear the other nodes' through the subscriptions
// coordinate makes; the KMS scheduler ticks under the coordinator's lease. With a
// cluster.Local coordinator (the embedded default: the stores are this process's alone) the
// caches keep what this process wrote, as they always did, and every lease is held.
//
// What else runs periodically, and why it needs no lease:
//   - iam.DeleteExpiredSessions (startSessionSweep): deleting what is expired is harmless
//     when two nodes do it.
//   - trail delivery and the audit Writer: each node delivers its own audit chain.
//   - kms.RunUsageFlush: each node flushes the last uses it saw, merged by the store.
//   - object.SweepInterrupted: each node sweeps the writes it interrupted.

// sharedStores reports whether other processes may write the stores: anything but a Local
// coordinator says so.
func (s *Server) sharedStores() bool {
	_, local := s.coord.(*cluster.Local)
	return !local
}

// cacheTTL is the re-read time of the services' caches: unbounded (0) when the stores are
// this process's alone, cluster.StaleBound when they are shared, so that a change another
// node made is seen within it even when its notification is lost.
func (s *Server) cacheTTL() time.Duration {
	if s.sharedStores() {
		return cluster.StaleBound
	}
	return 0
}

// published is the services' Changed hook: it tells every node of a committed change. A
// failure is logged, not returned: the change is made, and the other nodes see it within
// cacheTTL anyway.
func (s *Server) published(ctx context.Context, topic, id string) {
	if err := s.coord.Publish(context.WithoutCancel(ctx), topic, id); err != nil {
		s.log.Warn("cluster: a change was not announced; other nodes see it within the cache bound",
			"topic", topic, "id", id, "err", err)
	}
}

// coordinate subscribes the services (any of them nil when not running) to the changes
// other nodes announce through c, until ctx ends.
func (s *Server) coordinate(ctx context.Context, c cluster.Coordinator, keySvc *kms.Service, ids *iam.Service, trails *trail.Service) {
	var cancels []func()
	if keySvc != nil {
		for _, topic := range []string{kms.TopicKey, kms.TopicGrants, kms.TopicAliases} {
			cancels = append(cancels, c.Subscribe(topic, func(id string) { keySvc.Invalidate(topic, id) }))
		}
	}
	if ids != nil {
		cancels = append(cancels, c.Subscribe(iam.TopicIdentities, func(string) { ids.Invalidate() }))
	}
	if trails != nil {
		cancels = append(cancels, c.Subscribe(trail.TopicTrails, func(string) { trails.Invalidate() }))
	}
	s.jobs.Go(func() {
		<-ctx.Done()
		for _, cancel := range cancels {
			cancel()
		}
	})
}
