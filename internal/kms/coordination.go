package kms

import (
	"context"
	"time"
)

// Topics of the changes a Service announces through Config.Changed and hears through
// Invalidate: what the id names.
const (
	TopicKey     = "kms-key"     // a key id: its record (state, versions, policy, tags) changed or it was destroyed
	TopicGrants  = "kms-grants"  // a key id: its grants changed
	TopicAliases = "kms-aliases" // an account id: its aliases changed
)

// Invalidate tells the Service that another node changed what id names under topic (one of
// the Topic constants), so that its cached copy is read again before its next use; id ""
// means anything under topic may have changed. It is cheap and never reads the store: the
// re-read happens on the next use.
func (s *Service) Invalidate(topic, id string) {
	s.invalidations.Add(1)
	switch topic {
	case TopicKey:
		s.mu.RLock()
		if id == "" {
			for _, e := range s.cache {
				e.stale.Store(true)
			}
		} else if e := s.cache[id]; e != nil {
			e.stale.Store(true)
		}
		s.mu.RUnlock()
	case TopicGrants:
		s.index.mu.Lock()
		if id == "" {
			clear(s.index.grants)
		} else {
			delete(s.index.grants, id)
		}
		s.index.mu.Unlock()
	case TopicAliases:
		s.index.mu.Lock()
		if id == "" {
			clear(s.index.aliases)
		} else {
			delete(s.index.aliases, id)
		}
		s.index.mu.Unlock()
	}
}

// publish tells Config.Changed of a committed change.
func (s *Service) publish(ctx context.Context, topic, id string) {
	if s.changed != nil {
		s.changed(ctx, topic, id)
	}
}

// fresh reports whether a cached key may be used without reading its record again.
func (s *Service) fresh(e *entry) bool {
	return !e.stale.Load() && s.recent(e.loaded)
}

// recent reports whether something read from the store at loaded is within CacheTTL. Without
// a CacheTTL it always is, and costs no clock read.
func (s *Service) recent(loaded time.Time) bool {
	return s.ttl <= 0 || time.Since(loaded) < s.ttl
}

// loadedNow is the time to record as a cache entry's reading: only needed with a CacheTTL. It
// is the process's clock, not Config.Now, which tests move by days.
func (s *Service) loadedNow() time.Time {
	if s.ttl <= 0 {
		return time.Time{}
	}
	return time.Now()
}
