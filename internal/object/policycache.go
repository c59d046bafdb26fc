package object

import (
	"fmt"
	"sync"

	"github.com/coffer/coffer/internal/policy"
)

// DefaultPolicyCacheEntries bounds the compiled bucket policies kept in memory.
const DefaultPolicyCacheEntries = 1024

// policyCache keeps compiled bucket policies keyed by their text, so a request parses none:
// the text is read with the bucket on every request, so every node sharing a metadata store
// enforces the policy stored now, and an edit needs no invalidation.
type policyCache struct {
	mu  sync.RWMutex
	m   map[string]*policy.Policy
	max int
}

func newPolicyCache(max int) *policyCache {
	if max <= 0 {
		max = DefaultPolicyCacheEntries
	}
	return &policyCache{m: make(map[string]*policy.Policy), max: max}
}

// compiled returns the compiled form of a stored bucket policy, nil for none. Stored policies
// were validated when put, so an error means a damaged record.
func (c *policyCache) compiled(doc string) (*policy.Policy, error) {
	if doc == "" {
		return nil, nil
	}
	c.mu.RLock()
	p, ok := c.m[doc]
	c.mu.RUnlock()
	if ok {
		return p, nil
	}
	p, err := policy.Parse(doc, policy.ResourceKind)
	if err != nil {
		return nil, fmt.Errorf("%w: stored bucket policy does not parse: %v", ErrDamaged, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k := range c.m { // evict an arbitrary entry: a miss costs one parse
			delete(c.m, k)
			break
		}
	}
	c.m[doc] = p
	return p, nil
}
