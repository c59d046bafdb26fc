package kms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/policy"
)

// Config configures a Service.
type Config struct {
	Store  Store
	Root   RootKey
	Region string // e.g. us-east-1
	// Partition of ARNs; "aws" when empty.
	Partition string
	// Now returns the current time; time.Now when nil. Schedulers and tests inject a clock.
	Now func() time.Time
	// ManagedRotationDays is the rotation period of AWS managed keys; 365 when zero.
	ManagedRotationDays int
	// OwnedRotationDays is the rotation period of service-owned keys (see OwnedKey), such as
	// the SSE-S3 service key; 365 when zero.
	OwnedRotationDays int
	Logger            *slog.Logger
	// Audit takes the records of what the service does by itself (automatic rotations,
	// deletions, expiry of imported material); audit.Discard when nil. The wire layers record
	// the calls made to it.
	Audit audit.Recorder
	// HSMs are the HSMs custom key stores may use; none when nil.
	HSMs HSMs
	// Shredder keeps the shred keys of key material, so that destroyed material cannot be
	// recovered from the store's free pages (SPEC.md §8). The server always sets it; when nil,
	// material is sealed by the root key alone (tests of other parts).
	Shredder Shredder
	// Principals says which IAM principals exist, so that a key policy naming one that does
	// not is refused as AWS refuses it; when nil, key policies are not checked for that.
	Principals Principals
	// MaxCustomerKeys is the quota of customer managed keys per account, counted in every key
	// state as AWS counts them (AWS managed and service-owned keys do not count); 100,000,
	// AWS's default, when zero.
	MaxCustomerKeys int
	// CacheTTL is how long a cached key, key's grants or account's aliases is used before it
	// is read again from the store: the bound on how long a change another node made to a
	// shared store goes unseen when no notification of it arrives (cluster.StaleBound). Zero
	// keeps them until changed through this Service, for a store no other process writes.
	CacheTTL time.Duration
	// Changed, when set, is told of every change to a key (TopicKey, its id), its grants
	// (TopicGrants, the key id) or an account's aliases (TopicAliases, the account), after
	// it committed, so that other nodes sharing the store can Invalidate their copies. It must
	// not call back into the Service but Invalidate.
	Changed func(ctx context.Context, topic, id string)
	// Lease, when set, is asked before each tick of Run for SchedulerLease, to be held for
	// the given time; a tick runs only while this node holds it, so that of the nodes sharing
	// a store one runs the scheduler (cluster.Coordinator.TryLease). nil: every tick runs.
	Lease func(ctx context.Context, name string, ttl time.Duration) (bool, error)
}

// Service is the key management service. It is safe for concurrent use.
//
// It caches keys and their unsealed material in memory. When other processes write its Store
// too, Config.CacheTTL bounds how long a cached key is used unread, Config.Changed tells them
// of this one's changes and Invalidate hears of theirs (coordination.go).
type Service struct {
	store Store // the backend through macStore: every record read is verified (SPEC.md §5)
	// raw is the backend itself, for the start-up checks and upgrade, which read records
	// that may be from before record MACs.
	raw       Store
	root      RootKey
	region    string
	partition string
	now       func() time.Time
	log       *slog.Logger
	audit     audit.Recorder
	mgdDays   int
	ownedDays int
	maxKeys   int // Config.MaxCustomerKeys
	people    Principals

	mu    sync.RWMutex // guards cache and destroyed
	cache map[string]*entry
	// destroyed remembers keys destroyed during this run, so a load racing the destruction
	// cannot put the key back in the cache.
	destroyed map[string]bool
	wmu       sync.Mutex                                                              // serialises writes so the cache follows the store's order
	ttl       time.Duration                                                           // Config.CacheTTL
	changed   func(ctx context.Context, topic, id string)                             // Config.Changed
	lease     func(ctx context.Context, name string, ttl time.Duration) (bool, error) // Config.Lease
	// invalidations counts Invalidate calls: a cache fill that read the store while one came
	// may hold what another node has since changed, and is not kept as fresh.
	invalidations atomic.Uint64

	policies *policy.Cache // compiled key policies by text
	index    authIndex     // grants and aliases as authorization reads them
	condMaps sync.Pool     // condition-key maps of authorizations (callerConditions)
	usage    usageTracker  // the last use of each key (GetKeyLastUsage)
	hsm      keyStoreConns // connections of custom key stores
	shred    Shredder      // nil: material sealed by the root key alone

	// cacheCounts count the hits and misses of cache, index and policies.
	cacheCounts cacheCounts
}

// New returns a Service over cfg.Store, sealing with cfg.Root.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Root == nil {
		return nil, errors.New("kms: Store and Root are required")
	}
	if cfg.Region == "" {
		return nil, errors.New("kms: Region is required")
	}
	s := &Service{
		policies: policy.NewCache(policy.ResourceKind, maxCachedPolicies),
		store:    cfg.Store, root: cfg.Root, region: cfg.Region, partition: cfg.Partition,
		now: cfg.Now, log: cfg.Logger, audit: cfg.Audit, mgdDays: cfg.ManagedRotationDays, ownedDays: cfg.OwnedRotationDays,
		maxKeys: cfg.MaxCustomerKeys, people: cfg.Principals, shred: cfg.Shredder,
		ttl: cfg.CacheTTL, changed: cfg.Changed, lease: cfg.Lease,
		cache: make(map[string]*entry), destroyed: make(map[string]bool),
		usage: usageTracker{last: make(map[string]KeyUsage), dirty: make(map[string]KeyUsage)},
		hsm:   keyStoreConns{hsms: cfg.HSMs, conns: make(map[string]*keyStoreConn)},
	}
	s.raw, s.store = cfg.Store, newMACStore(cfg.Store, cfg.Root)
	if s.partition == "" {
		s.partition = "aws"
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.usage.began = s.now().UTC().Truncate(time.Second)
	if s.audit == nil {
		s.audit = audit.Discard{}
	}
	if s.mgdDays == 0 {
		s.mgdDays = 365
	}
	if s.ownedDays == 0 {
		s.ownedDays = 365
	}
	if s.maxKeys == 0 {
		s.maxKeys = defaultMaxCustomerKeys
	}
	return s, nil
}

// Region returns the service's region.
func (s *Service) Region() string { return s.region }

// KeyARN returns the ARN of key id in account.
func (s *Service) KeyARN(account, id string) string {
	return "arn:" + s.partition + ":kms:" + s.region + ":" + account + ":key/" + id
}

func (s *Service) arn(k *Key) string { return s.KeyARN(k.Account, k.ID) }

// aliasARN returns the ARN of an alias name ("alias/x").
func (s *Service) aliasARN(account, name string) string {
	return "arn:" + s.partition + ":kms:" + s.region + ":" + account + ":" + name
}

// newUUID returns a random (version 4) UUID string.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// parseUUID returns the 16 bytes of a canonical lower- or upper-case UUID.
func parseUUID(id string) ([16]byte, bool) {
	var out [16]byte
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return out, false
	}
	h := id[0:8] + id[9:13] + id[14:18] + id[19:23] + id[24:36]
	if _, err := hex.Decode(out[:], []byte(h)); err != nil {
		return out, false
	}
	return out, true
}

func formatUUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ref is a parsed key reference.
type ref struct {
	account string // "" for the caller's account
	keyID   string // set for key ids and key ARNs
	alias   string // "alias/..." for alias names and alias ARNs
}

// parseRef parses a key id, key ARN, alias name or alias ARN.
func (s *Service) parseRef(id string) (ref, error) {
	switch {
	case strings.HasPrefix(id, "arn:"):
		parts := strings.SplitN(id, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" {
			return ref{}, errf(ErrNotFound, "Invalid arn %s", id)
		}
		if parts[1] != s.partition || parts[3] != s.region {
			return ref{}, errf(ErrNotFound, "Invalid arn %s", parts[3])
		}
		res := parts[5]
		switch {
		case strings.HasPrefix(res, "key/"):
			return ref{account: parts[4], keyID: res[4:]}, nil
		case strings.HasPrefix(res, "alias/"):
			return ref{account: parts[4], alias: res}, nil
		}
		return ref{}, errf(ErrNotFound, "Invalid arn %s", id)
	case strings.HasPrefix(id, "alias/"):
		return ref{alias: id}, nil
	}
	if _, ok := parseUUID(id); !ok {
		return ref{}, errf(ErrNotFound, "Invalid keyId '%s'", id)
	}
	return ref{keyID: strings.ToLower(id)}, nil
}

// resolveOpts says which forms a key reference may take.
type resolveOpts struct {
	aliases bool // alias names and ARNs accepted
	// autoManaged creates a missing alias/aws/<service> key on first use.
	autoManaged bool
}

var (
	optsKeyOnly = resolveOpts{}
	optsAny     = resolveOpts{aliases: true, autoManaged: true}
)

// resolve finds the key a caller names, from the cache when possible, and authorizes the
// operation a on it (authorize): nothing is done with a key before the caller may use it.
func (s *Service) resolve(ctx context.Context, c Caller, id string, o resolveOpts, a ask) (*entry, error) {
	e, alias, err := s.find(ctx, c, id, o)
	if err != nil {
		return nil, err
	}
	if e.key.Account != c.Account && !crossAccountOps[a.op] {
		return nil, s.denied(c, e.key, a.op)
	}
	a.alias = alias
	if err := s.authorize(ctx, c, e, a); err != nil {
		return nil, err
	}
	return e, nil
}

// crossAccountOps are the operations AWS allows on a key of another account (its key policy
// and the caller's identity policies permitting); the others are refused on such a key.
var crossAccountOps = map[string]bool{
	"CreateGrant": true, "Decrypt": true, "DescribeKey": true, "DeriveSharedSecret": true, "Encrypt": true,
	"GenerateDataKey": true, "GenerateDataKeyPair": true, "GenerateDataKeyPairWithoutPlaintext": true,
	"GenerateDataKeyWithoutPlaintext": true, "GenerateMac": true, "GetKeyRotationStatus": true,
	"GetPublicKey": true, "ListGrants": true, "ReEncryptFrom": true, "ReEncryptTo": true,
	"RetireGrant": true, "RevokeGrant": true, "Sign": true, "Verify": true, "VerifyMac": true,
}

// find finds the key a caller names, without authorizing anything. alias is the alias the
// reference named, "" for a key id or ARN.
func (s *Service) find(ctx context.Context, c Caller, id string, o resolveOpts) (e *entry, alias string, err error) {
	if id == "" {
		return nil, "", errValidation("KeyId is required.")
	}
	r, err := s.parseRef(id)
	if err != nil {
		return nil, "", err
	}
	account := r.account
	if account == "" {
		account = c.Account
	}
	if r.alias != "" {
		if !o.aliases {
			return nil, "", errf(ErrNotFound, "Invalid keyId '%s'", id)
		}
		keyID, err := s.aliasKey(ctx, account, r.alias)
		if errors.Is(err, ErrStoreNoSuchAlias) {
			if o.autoManaged && account == c.Account && strings.HasPrefix(r.alias, managedAliasPrefix) {
				e, err := s.managedKey(ctx, account, r.alias)
				return e, r.alias, err
			}
			return nil, "", errf(ErrNotFound, "Alias %s is not found.", s.aliasARN(account, r.alias))
		}
		if err != nil {
			return nil, "", err
		}
		r.keyID = keyID
	}
	e, err = s.load(ctx, r.keyID)
	if errors.Is(err, ErrStoreNoSuchKey) || (err == nil && (e.key.Owned || e.key.Account != account)) {
		return nil, "", errf(ErrNotFound, "Key '%s' does not exist", s.KeyARN(account, r.keyID))
	}
	if err == nil {
		s.noteKey(ctx, e.arn)
	}
	return e, r.alias, err
}

// load returns the cached entry of a key, reading the store on a miss or when the entry is
// stale (fresh). A re-read keeps the unsealed material of the versions still there.
func (s *Service) load(ctx context.Context, id string) (*entry, error) {
	s.mu.RLock()
	e := s.cache[id]
	s.mu.RUnlock()
	if e != nil && s.fresh(e) {
		s.cacheCounts.keyHits.Add(1)
		return e, nil
	}
	s.cacheCounts.keyMisses.Add(1)
	seen := s.invalidations.Load()
	k, err := s.store.GetKey(ctx, id)
	if errors.Is(err, ErrStoreNoSuchKey) && e != nil {
		s.forget(id) // destroyed by another node
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.cache[id]; cur != nil && cur != e {
		return cur, nil // filled or rewritten while this load read the store
	}
	if s.destroyed[id] {
		// Destroyed while this load was reading the store: the record read is stale.
		return nil, ErrStoreNoSuchKey
	}
	e = newEntry(k, s.arn(k), e)
	e.loaded = s.loadedNow()
	if s.invalidations.Load() != seen {
		e.stale.Store(true) // perhaps read before another node's change: read again next time
	}
	s.cache[id] = e
	return e, nil
}

// update applies fn to a key in one store transaction and refreshes the cache.
func (s *Service) update(ctx context.Context, id string, fn func(*Key) error) (*entry, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.updateLocked(ctx, id, fn)
}

// updateLocked is update for a caller that holds wmu.
func (s *Service) updateLocked(ctx context.Context, id string, fn func(*Key) error) (*entry, error) {
	k, err := s.store.UpdateKey(ctx, id, fn)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	e := newEntry(k, s.arn(k), s.cache[id])
	e.loaded = s.loadedNow()
	s.cache[id] = e
	s.mu.Unlock()
	s.publish(ctx, TopicKey, id)
	return e, nil
}

// forget drops a key from the cache, destroying its unsealed material.
func (s *Service) forget(id string) {
	s.mu.Lock()
	e := s.cache[id]
	delete(s.cache, id)
	s.destroyed[id] = true
	s.mu.Unlock()
	if e != nil {
		e.destroy()
	}
}

func (s *Service) internal(op string, err error) error {
	s.log.Error("kms internal error", "op", op, "err", err)
	return fmt.Errorf("kms: %s: %w", op, err)
}

// CheckRoot verifies that the root key is the one that sealed the stored keys: a root key
// file lost and regenerated, or the wrong --kms-root-key-file, would otherwise start a service
// on which every existing key fails. It opens the root-key canary (SPEC.md §2.1), so one
// damaged key record cannot stop the service; only when the canary does not open does stored
// key material decide between a damaged canary (logged, the start goes on) and a wrong root
// key. A store without a canary gets one, once some stored key material opens (or at once,
// when there is none).
func (s *Service) CheckRoot(ctx context.Context) error {
	canary, err := s.store.Canary(ctx)
	if err != nil {
		return fmt.Errorf("kms: reading the root-key canary: %w", err)
	}
	var canaryErr error
	if canary != nil {
		raw, err := s.root.Open(ctx, canary, []byte(canaryAAD))
		clear(raw)
		if err == nil {
			return nil
		}
		// A wrong root key, or a damaged canary record: stored key material tells which.
		canaryErr = err
	}
	sealedSome, opened := false, false
	// The backend's records as they are: the root key is proven before UpgradeRecords runs.
	err = s.raw.ScanKeys(ctx, func(k *Key) bool {
		for _, v := range k.Versions {
			if len(v.Sealed) == 0 {
				continue
			}
			sealedSome = true
			if s.opensUnderEitherLabel(ctx, v.Sealed, k.ID, v.Number) {
				opened = true
				return false
			}
		}
		return true
	})
	if err != nil {
		// Damaged records are reported, not fatal: the others still hold the check.
		s.log.ErrorContext(ctx, "kms: some key records could not be read", "err", err)
	}
	switch {
	case canaryErr != nil && opened:
		s.log.ErrorContext(ctx, "kms: the root-key canary record is damaged (stored key material proves the root key right); restore meta.db from a backup or run `coffer admin check`", "err", canaryErr)
		return nil
	case canaryErr != nil:
		return fmt.Errorf("kms: the root key does not open the stored keys: the root-key canary does not authenticate (was the root key file replaced, lost and regenerated, or is --kms-root-key-file wrong? if the key is right, the canary record is damaged: restore meta.db): %w", canaryErr)
	case sealedSome && !opened:
		return fmt.Errorf("kms: the root key does not open the stored keys (was the root key file replaced, lost and regenerated, or is --kms-root-key-file wrong?): %w", ErrSealedCorrupt)
	}
	material := make([]byte, 32)
	_, _ = rand.Read(material) // crypto/rand.Read never fails (Go ≥ 1.24)
	sealed, err := s.root.Seal(ctx, material, []byte(canaryAAD))
	if err != nil {
		return fmt.Errorf("kms: sealing the root-key canary: %w", err)
	}
	err = s.store.PutCanary(ctx, sealed)
	switch {
	case errors.Is(err, ErrStoreKeyExists):
		// Another node sharing the store put its canary first: this root key must open it,
		// or the two would seal keys the other cannot read.
		stored, err := s.store.Canary(ctx)
		if err != nil {
			return fmt.Errorf("kms: reading the root-key canary: %w", err)
		}
		raw, err := s.root.Open(ctx, stored, []byte(canaryAAD))
		clear(raw)
		if err != nil {
			return fmt.Errorf("kms: the root key does not open the root-key canary another node stored meanwhile: every node sharing the stores needs the same root key (copy one --kms-root-key-file to all): %w", err)
		}
	case err != nil:
		return fmt.Errorf("kms: storing the root-key canary: %w", err)
	}
	return nil
}

// canaryAAD binds the root-key canary to its purpose (SPEC.md §2.1).
const canaryAAD = "coffer kms root canary v1"

// CheckKeys reads every key and unseals every version of its material with the root key (and
// its shred key, SPEC.md §8, through the Shredder; without one, shredded material is a finding),
// checks the MAC of every key, alias and grant record (SPEC.md §5), calling finding for each
// that fails, and checks the root-key canary. It changes nothing; it is what `coffer admin
// check` runs on the KMS.
func (s *Service) CheckKeys(ctx context.Context, finding func(string)) error {
	canary, err := s.store.Canary(ctx)
	if err != nil {
		return err
	}
	if canary != nil {
		raw, err := s.root.Open(ctx, canary, []byte(canaryAAD))
		clear(raw)
		if err != nil {
			finding("kms: the root key does not open the root-key canary (wrong root key, or a damaged canary)")
		}
	}
	macs := recordMACs{root: s.root}
	accounts := map[string]bool{ownedAccount: true}
	err = s.raw.ScanKeys(ctx, func(k *Key) bool {
		accounts[k.Account] = true
		if k.RecordFormat < RecordFormatMAC {
			finding(fmt.Sprintf("kms: key %s: its record has no MAC (written before record MACs); the next start upgrades it, unless records were MACed before", k.ID))
		} else if err := macs.verifyKey(ctx, k); err != nil {
			finding(err.Error())
		}
		for _, v := range k.Versions {
			if len(v.Sealed) == 0 {
				continue
			}
			var raw []byte
			if v.Slot != 0 {
				raw, err = s.openMaterial(ctx, v.Sealed, v.Slot, k.ID, v.Number)
			} else {
				raw, err = s.root.Open(ctx, v.Sealed, materialAAD(k, k.ID, v.Number))
			}
			clear(raw)
			if err != nil {
				finding(fmt.Sprintf("kms: key %s version %d: its sealed material does not open: %v", k.ID, v.Number, err))
			}
		}
		return ctx.Err() == nil
	})
	findLines := func(err error) {
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				finding("kms: " + line)
			}
		}
	}
	findLines(err)
	for _, account := range slices.Sorted(maps.Keys(accounts)) {
		as, err := s.store.ListAliases(ctx, account, "", 0)
		findLines(err)
		for _, a := range as {
			if a.KeyID == "" {
				finding(fmt.Sprintf("kms: alias %s of account %q: %v", a.Name, account, ErrStoreDamaged))
			}
		}
	}
	findLines(s.store.ScanGrants(ctx, func(Grant) bool { return ctx.Err() == nil }))
	return ctx.Err()
}
