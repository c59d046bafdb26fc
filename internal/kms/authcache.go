package kms

import (
	"context"
	"sync"
)

// maxCachedPolicies bounds the compiled key policies kept; keys sharing a policy text (every
// key of an account with the default policy) share one compiled policy.
const maxCachedPolicies = 4096

// authIndex caches what authorization reads besides the key itself: each key's grants and
// each account's aliases by key. Misses are filled under Service.wmu, and every write of
// grants or aliases drops the entries it changes while holding wmu, so a fill never stores a
// list older than the store's.
type authIndex struct {
	mu      sync.RWMutex
	grants  map[string][]Grant             // by key id
	aliases map[string]map[string][]string // account → key id → alias names
}

// keyGrants returns the grants of a key.
func (s *Service) keyGrants(ctx context.Context, keyID string) ([]Grant, error) {
	s.index.mu.RLock()
	gs, ok := s.index.grants[keyID]
	s.index.mu.RUnlock()
	if ok {
		return gs, nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	gs, err := s.store.ListGrants(ctx, keyID)
	if err != nil {
		return nil, err
	}
	s.index.mu.Lock()
	defer s.index.mu.Unlock()
	if s.index.grants == nil {
		s.index.grants = make(map[string][]Grant)
	}
	s.index.grants[keyID] = gs
	return gs, nil
}

// aliasesOf returns the alias names of a key, for kms:ResourceAliases.
func (s *Service) aliasesOf(ctx context.Context, account, keyID string) ([]string, error) {
	s.index.mu.RLock()
	byKey, ok := s.index.aliases[account]
	s.index.mu.RUnlock()
	if ok {
		return byKey[keyID], nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	all, err := s.store.ListAliases(ctx, account, "", 0)
	if err != nil {
		return nil, err
	}
	byKey = make(map[string][]string)
	for _, a := range all {
		byKey[a.KeyID] = append(byKey[a.KeyID], a.Name)
	}
	s.index.mu.Lock()
	defer s.index.mu.Unlock()
	if s.index.aliases == nil {
		s.index.aliases = make(map[string]map[string][]string)
	}
	s.index.aliases[account] = byKey
	return byKey[keyID], nil
}

// grantsChanged drops a key's cached grants. Callers hold wmu.
func (s *Service) grantsChanged(keyID string) {
	s.index.mu.Lock()
	delete(s.index.grants, keyID)
	s.index.mu.Unlock()
}

// aliasesChanged drops an account's cached aliases. Callers hold wmu.
func (s *Service) aliasesChanged(account string) {
	s.index.mu.Lock()
	delete(s.index.aliases, account)
	s.index.mu.Unlock()
}
