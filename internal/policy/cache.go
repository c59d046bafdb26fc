package policy

import (
	"sync"
	"sync/atomic"
)

// Cache compiles policies once per text, for services that read a policy's text with the
// resource on every request (bucket and key policies): keyed by the text itself, so an edit
// needs no invalidation and every node sharing a store enforces what is stored now. It holds
// at most max policies; when full it drops an arbitrary entry, so a miss costs one Parse.
type Cache struct {
	kind Kind
	max  int
	mu   sync.RWMutex
	m    map[string]*Policy

	hits, misses atomic.Uint64
}

// NewCache returns a cache of policies of kind, holding at most size of them (at least one).
func NewCache(kind Kind, size int) *Cache {
	return &Cache{kind: kind, max: max(size, 1), m: make(map[string]*Policy)}
}

// Get returns the compiled form of doc, parsing it on first use. Parse errors are not cached.
func (c *Cache) Get(doc string) (*Policy, error) {
	c.mu.RLock()
	p, ok := c.m[doc]
	c.mu.RUnlock()
	if ok {
		c.hits.Add(1)
		return p, nil
	}
	c.misses.Add(1)
	p, err := Parse(doc, c.kind)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[doc] = p
	return p, nil
}

// Counts returns how many Gets found their policy compiled, and how many parsed it.
func (c *Cache) Counts() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

// Len returns the number of compiled policies held.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
