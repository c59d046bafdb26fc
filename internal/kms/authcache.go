package kms

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// maxCachedPolicies bounds the compiled key policies kept; keys sharing a policy text (every
// key of an account with the default policy) share one compiled policy.
const maxCachedPolicies = 4096

// cacheCounts count the lookups of the Service's caches that hit and missed.
type cacheCounts struct {
	keyHits, keyMisses, grantHits, grantMisses, aliasHits, aliasMisses atomic.Uint64
}

// CacheCounts are the hits and misses of the KMS's caches since start, for metrics: keys (the
// key records and their unsealed material), grants by key, aliases by account, and compiled
// key policies.
type CacheCounts struct {
	KeyHits, KeyMisses, GrantHits, GrantMisses, AliasHits, AliasMisses, PolicyHits, PolicyMisses uint64
}

// CacheCounts returns the counts so far.
func (s *Service) CacheCounts() CacheCounts {
	c := &s.cacheCounts
	ph, pm := s.policies.Counts()
	return CacheCounts{KeyHits: c.keyHits.Load(), KeyMisses: c.keyMisses.Load(), GrantHits: c.grantHits.Load(),
		GrantMisses: c.grantMisses.Load(), AliasHits: c.aliasHits.Load(), AliasMisses: c.aliasMisses.Load(),
		PolicyHits: ph, PolicyMisses: pm}
}

// authIndex caches what authorization reads besides the key itself: each key's grants and
// each account's aliases by key. Misses are filled under Service.wmu, and every write of
// grants or aliases drops the entries it changes while holding wmu, so a fill never stores a
// list older than the store's.
//
// When the store is shared with other nodes, their changes drop entries through Invalidate,
// and every entry is read again once Config.CacheTTL has passed.
type authIndex struct {
	mu      sync.RWMutex
	grants  map[string]keyGrants       // by key id
	aliases map[string]*accountAliases // by account
}

// keyGrants are the grants of one key as they were read from the store.
type keyGrants struct {
	list   []Grant
	loaded time.Time // when read (only with a CacheTTL)
}

// accountAliases are the aliases of one account as they were read from the store.
type accountAliases struct {
	loaded time.Time           // when read (only with a CacheTTL)
	byKey  map[string][]string // key id → alias names
	// byName maps an alias name to its key id, "" for an alias whose record is damaged.
	byName map[string]string
}

// keyGrants returns the grants of a key.
func (s *Service) keyGrants(ctx context.Context, keyID string) ([]Grant, error) {
	s.index.mu.RLock()
	kg, ok := s.index.grants[keyID]
	s.index.mu.RUnlock()
	if ok && s.recent(kg.loaded) {
		s.cacheCounts.grantHits.Add(1)
		return kg.list, nil
	}
	s.cacheCounts.grantMisses.Add(1)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	seen := s.invalidations.Load()
	gs, err := s.store.ListGrants(ctx, keyID)
	if err != nil {
		return nil, err
	}
	s.index.mu.Lock()
	defer s.index.mu.Unlock()
	if s.invalidations.Load() != seen {
		return gs, nil // perhaps read before another node's change: not cached
	}
	if s.index.grants == nil {
		s.index.grants = make(map[string]keyGrants)
	}
	s.index.grants[keyID] = keyGrants{list: gs, loaded: s.loadedNow()}
	return gs, nil
}

// aliasesOf returns the alias names of a key, for kms:ResourceAliases. An alias whose record
// is damaged counts for no key, as if it had been deleted (which someone able to damage it
// could do as well); naming it fails (aliasKey).
func (s *Service) aliasesOf(ctx context.Context, account, keyID string) ([]string, error) {
	aa, err := s.accountAliases(ctx, account)
	if err != nil {
		return nil, err
	}
	return aa.byKey[keyID], nil
}

// aliasKey returns the id of the key an alias of account names: ErrStoreNoSuchAlias when
// there is no such alias, ErrStoreDamaged when its record is damaged. It reads the cache,
// so naming a key by alias costs no store read per request.
func (s *Service) aliasKey(ctx context.Context, account, name string) (string, error) {
	aa, err := s.accountAliases(ctx, account)
	if err != nil {
		return "", err
	}
	id, ok := aa.byName[name]
	switch {
	case !ok:
		return "", ErrStoreNoSuchAlias
	case id == "":
		return "", fmt.Errorf("kms: alias %s: %w", name, ErrStoreDamaged)
	}
	return id, nil
}

// accountAliases returns the cached aliases of an account, reading them on a miss. Callers
// must not hold wmu.
func (s *Service) accountAliases(ctx context.Context, account string) (*accountAliases, error) {
	s.index.mu.RLock()
	aa, ok := s.index.aliases[account]
	s.index.mu.RUnlock()
	if ok && s.recent(aa.loaded) {
		s.cacheCounts.aliasHits.Add(1)
		return aa, nil
	}
	s.cacheCounts.aliasMisses.Add(1)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	seen := s.invalidations.Load()
	all, err := s.store.ListAliases(ctx, account, "", 0)
	if err != nil {
		return nil, err
	}
	aa = &accountAliases{byKey: make(map[string][]string), byName: make(map[string]string, len(all)), loaded: s.loadedNow()}
	for _, a := range all {
		aa.byName[a.Name] = a.KeyID
		if a.KeyID == "" {
			s.log.ErrorContext(ctx, "kms: an alias record is damaged; the alias is unusable until meta.db is restored", "account", account, "alias", a.Name)
			continue
		}
		aa.byKey[a.KeyID] = append(aa.byKey[a.KeyID], a.Name)
	}
	s.index.mu.Lock()
	defer s.index.mu.Unlock()
	if s.invalidations.Load() != seen {
		return aa, nil // perhaps read before another node's change: not cached
	}
	if s.index.aliases == nil {
		s.index.aliases = make(map[string]*accountAliases)
	}
	s.index.aliases[account] = aa
	return aa, nil
}

// grantsChanged drops a key's cached grants and tells the other nodes. Callers hold wmu.
func (s *Service) grantsChanged(ctx context.Context, keyID string) {
	s.index.mu.Lock()
	delete(s.index.grants, keyID)
	s.index.mu.Unlock()
	s.publish(ctx, TopicGrants, keyID)
}

// aliasesChanged drops an account's cached aliases and tells the other nodes. Callers hold
// wmu.
func (s *Service) aliasesChanged(ctx context.Context, account string) {
	s.index.mu.Lock()
	delete(s.index.aliases, account)
	s.index.mu.Unlock()
	s.publish(ctx, TopicAliases, account)
}
