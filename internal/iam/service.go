package iam

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer/coffer/internal/policy"
	"github.com/coffer/coffer/internal/secret"
)

// Sealer seals secret access keys before they reach the store, and opens them. The server
// adapts the KMS to it; context binds a sealed secret to its access key id, so a sealed value
// moved to another record does not open.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, context map[string]string) ([]byte, error)
	Open(ctx context.Context, sealed []byte, context map[string]string) (secret.Bytes, error)
}

// DefaultCacheTTL is how long a credential looked up in the store is served from memory. A
// change made through this Service is seen at once on this node (the cache is emptied); one
// made by another node sharing the store is seen when Invalidate hears of it, and at the
// latest within this bound (cluster.StaleBound).
const DefaultCacheTTL = 5 * time.Second

// TopicIdentities is the topic under which Config.Changed announces a change to accounts,
// users, roles, access keys or policies, and Invalidate hears of one: the caches hold
// credentials with the policies of their principals, so any change empties them all.
const TopicIdentities = "iam"

// maxCached bounds the credential cache.
const maxCached = 10000

// Config configures a Service.
type Config struct {
	Store  Store
	Sealer Sealer
	// Default is the default account, created in the store if it is not there. Its root keys
	// are in the store like every other access key.
	Default Account
	// DefaultKey and DefaultSecret are a root key of the default account held only in memory,
	// never stored: the server's COFFER_ACCESS_KEY and COFFER_SECRET_KEY. Both or neither.
	DefaultKey    string
	DefaultSecret string
	// ReplacedKey is a stored root key of the default account that DefaultKey replaces while
	// this Service runs: requests signed with it are refused as if it were unknown. "" for none.
	ReplacedKey string
	// CacheTTL is how long looked-up credentials are cached (0: DefaultCacheTTL; < 0: never).
	CacheTTL time.Duration
	Now      func() time.Time
	Logger   *slog.Logger
	// Changed, when set, is told of every committed change (TopicIdentities, id ""), so that
	// other nodes sharing the store can Invalidate their caches. It must not call back into
	// the Service but Invalidate.
	Changed func(ctx context.Context, topic, id string)
}

// Service is the identity service: the Directory of every wire layer and the operations of
// the IAM and STS APIs. It keeps no state of its own but bounded caches: every node sharing
// the store sees the same identities.
type Service struct {
	store     Store
	sealer    Sealer
	def       Account
	defKey    string
	defSecret secret.Bytes
	replaced  string
	ttl       time.Duration
	now       func() time.Time
	log       *slog.Logger
	changed   func(ctx context.Context, topic, id string) // Config.Changed
	mu        sync.Mutex
	creds     map[string]cachedCredential
	accounts  map[string]cachedAccount
	// gen counts invalidations: a lookup that read the store before a change commits its
	// result to the cache only if no invalidation happened meanwhile.
	gen uint64

	// credHits and credMisses count Lookups served from creds and from the store.
	credHits, credMisses atomic.Uint64
}

type cachedCredential struct {
	cred      Credential
	loaded    time.Time
	tokenHash []byte    // sessions only
	expires   time.Time // sessions only
}

type cachedAccount struct {
	a      Account
	loaded time.Time
}

var _ Directory = (*Service)(nil)

// New returns the Service, creating the default account in the store if it is not there.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Sealer == nil {
		return nil, errors.New("iam: Store and Sealer are required")
	}
	if !ValidAccountID(cfg.Default.ID) || (cfg.DefaultKey == "") != (cfg.DefaultSecret == "") {
		return nil, errors.New("iam: the default account needs a 12-digit id, and its root key a secret")
	}
	s := &Service{store: cfg.Store, sealer: cfg.Sealer, def: cfg.Default, defKey: cfg.DefaultKey,
		defSecret: secret.BytesFrom([]byte(cfg.DefaultSecret)), replaced: cfg.ReplacedKey, ttl: cfg.CacheTTL, now: cfg.Now, log: cfg.Logger, changed: cfg.Changed,
		creds: map[string]cachedCredential{}, accounts: map[string]cachedAccount{}}
	if s.ttl == 0 {
		s.ttl = DefaultCacheTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	switch a, err := s.store.GetAccount(ctx, cfg.Default.ID); {
	case errors.Is(err, ErrNoSuchEntity):
		if err := s.store.CreateAccount(ctx, cfg.Default); err != nil && !errors.Is(err, ErrEntityExists) {
			return nil, err
		}
	case err != nil:
		return nil, err
	case a.DisplayName != cfg.Default.DisplayName:
		s.def.DisplayName = cfg.Default.DisplayName // credentials.json names it
	}
	return s, nil
}

// DefaultAccount returns the default account.
func (s *Service) DefaultAccount() Account { return s.def }

// CredentialCacheCounts returns how many credential lookups the cache answered and how many
// read the store (the root key from the environment counts as neither).
func (s *Service) CredentialCacheCounts() (hits, misses uint64) {
	return s.credHits.Load(), s.credMisses.Load()
}

// invalidate empties the caches after a change, so this node sees it at once, and tells the
// other nodes (Config.Changed).
func (s *Service) invalidate(ctx context.Context) {
	s.Invalidate()
	if s.changed != nil {
		s.changed(ctx, TopicIdentities, "")
	}
}

// Invalidate empties the caches: another node sharing the store changed identities
// (TopicIdentities). Lookups read the store again.
func (s *Service) Invalidate() {
	s.mu.Lock()
	clear(s.creds)
	clear(s.accounts)
	s.gen++
	s.mu.Unlock()
}

// Account implements Directory.
func (s *Service) Account(id string) (Account, bool) {
	if id == s.def.ID {
		return s.def, true
	}
	now := s.now()
	s.mu.Lock()
	c, ok := s.accounts[id]
	gen := s.gen
	s.mu.Unlock()
	if ok && now.Sub(c.loaded) < s.ttl {
		return c.a, true
	}
	a, err := s.store.GetAccount(context.Background(), id)
	if err != nil {
		return Account{}, false
	}
	s.mu.Lock()
	if gen == s.gen { // else perhaps read before a change: not cached
		if len(s.accounts) >= maxCached {
			clear(s.accounts)
		}
		s.accounts[id] = cachedAccount{a: a, loaded: now}
	}
	s.mu.Unlock()
	return a, true
}

// Lookup implements Directory.
func (s *Service) Lookup(ctx context.Context, accessKey, sessionToken string) (Credential, error) {
	if s.defKey != "" && subtle.ConstantTimeCompare([]byte(accessKey), []byte(s.defKey)) == 1 {
		if sessionToken != "" {
			return Credential{}, ErrInvalidToken
		}
		return Credential{Principal: RootPrincipal(s.def, s.defKey), Secret: s.defSecret}, nil
	}
	if s.replaced != "" && accessKey == s.replaced {
		return Credential{}, ErrUnknownAccessKey
	}
	now := s.now()
	s.mu.Lock()
	c, ok := s.creds[accessKey]
	gen := s.gen
	s.mu.Unlock()
	if ok && now.Sub(c.loaded) < s.ttl {
		s.credHits.Add(1)
	} else {
		s.credMisses.Add(1)
		var err error
		if c, err = s.load(ctx, accessKey); err != nil {
			return Credential{}, err
		}
		c.loaded = now
		s.mu.Lock()
		if s.ttl > 0 && gen == s.gen {
			if len(s.creds) >= maxCached {
				for k := range s.creds { // drop an arbitrary entry
					delete(s.creds, k)
					break
				}
			}
			s.creds[accessKey] = c
		}
		s.mu.Unlock()
	}
	if c.tokenHash == nil {
		if sessionToken != "" {
			return Credential{}, ErrInvalidToken
		}
		return c.cred, nil
	}
	if sessionToken == "" {
		return Credential{}, ErrInvalidToken
	}
	sum := sha256.Sum256([]byte(sessionToken))
	if subtle.ConstantTimeCompare(sum[:], c.tokenHash) != 1 {
		return Credential{}, ErrInvalidToken
	}
	if !now.Before(c.expires) {
		return Credential{}, ErrExpiredToken
	}
	return c.cred, nil
}

// load reads a credential from the store.
func (s *Service) load(ctx context.Context, accessKey string) (cachedCredential, error) {
	if strings.HasPrefix(accessKey, sessionKeyPrefix) {
		return s.loadSession(ctx, accessKey)
	}
	k, err := s.store.GetAccessKey(ctx, accessKey)
	switch {
	case errors.Is(err, ErrNoSuchEntity):
		return cachedCredential{}, ErrUnknownAccessKey
	case err != nil:
		return cachedCredential{}, err
	case k.Status != StatusActive:
		return cachedCredential{}, ErrUnknownAccessKey
	}
	acct, ok := s.Account(k.Account)
	if !ok {
		return cachedCredential{}, ErrUnknownAccessKey
	}
	var p Principal
	if k.UserName == "" {
		p = RootPrincipal(acct, k.ID)
	} else {
		u, err := s.store.GetUser(ctx, k.Account, k.UserName)
		if err != nil {
			return cachedCredential{}, fmt.Errorf("iam: user of access key %s: %w", k.ID, err)
		}
		pols, err := s.identityPolicies(ctx, Entity{Kind: KindUser, Account: u.Account, Name: u.Name})
		if err != nil {
			return cachedCredential{}, err
		}
		p = Principal{AccountID: acct.ID, DisplayName: acct.DisplayName, ARN: u.ARN(), AccessKey: k.ID,
			Type: PrincipalUser, UserName: u.Name, UserID: u.ID, Policies: pols}
	}
	sec, err := s.sealer.Open(ctx, k.SealedSecret, sealContext(k.ID))
	if err != nil {
		return cachedCredential{}, fmt.Errorf("iam: opening the secret of access key %s: %w", k.ID, err)
	}
	return cachedCredential{cred: Credential{Principal: p, Secret: sec}}, nil
}

func (s *Service) loadSession(ctx context.Context, accessKey string) (cachedCredential, error) {
	ss, err := s.store.GetSession(ctx, accessKey)
	switch {
	case errors.Is(err, ErrNoSuchEntity):
		return cachedCredential{}, ErrUnknownAccessKey
	case err != nil:
		return cachedCredential{}, err
	}
	acct, ok := s.Account(ss.Account)
	if !ok {
		return cachedCredential{}, ErrInvalidToken
	}
	role, err := s.store.GetRole(ctx, ss.Account, ss.RoleName)
	if errors.Is(err, ErrNoSuchEntity) || err == nil && role.ID != ss.RoleID {
		return cachedCredential{}, ErrInvalidToken // the role is gone, and its sessions with it
	} else if err != nil {
		return cachedCredential{}, err
	}
	pols, err := s.identityPolicies(ctx, Entity{Kind: KindRole, Account: role.Account, Name: role.Name})
	if err != nil {
		return cachedCredential{}, err
	}
	var sessionPols []*policy.Policy
	for _, doc := range ss.Policies {
		sp, err := policy.Parse(doc, policy.IdentityKind)
		if err != nil {
			return cachedCredential{}, fmt.Errorf("iam: session policy of %s: %w: %v", ss.AccessKeyID, ErrDamaged, err)
		}
		sessionPols = append(sessionPols, sp)
	}
	sec, err := s.sealer.Open(ctx, ss.SealedSecret, sealContext(ss.AccessKeyID))
	if err != nil {
		return cachedCredential{}, fmt.Errorf("iam: opening the secret of session %s: %w", ss.AccessKeyID, err)
	}
	p := Principal{AccountID: acct.ID, DisplayName: acct.DisplayName, AccessKey: ss.AccessKeyID,
		ARN:  "arn:aws:sts::" + acct.ID + ":assumed-role/" + role.Name + "/" + ss.SessionName,
		Type: PrincipalAssumedRole, UserID: role.ID + ":" + ss.SessionName, RoleARN: role.ARN(),
		SessionName: ss.SessionName, Policies: pols, SessionPolicies: sessionPols}
	return cachedCredential{cred: Credential{Principal: p, Secret: sec}, tokenHash: ss.TokenHash, expires: ss.Expires}, nil
}

// identityPolicies parses the inline and attached managed policies (default versions) of an
// entity.
func (s *Service) identityPolicies(ctx context.Context, e Entity) ([]*policy.Policy, error) {
	inline, err := s.store.ListInlinePolicies(ctx, e)
	if err != nil {
		return nil, err
	}
	attached, err := s.store.ListAttachedPolicies(ctx, e)
	if err != nil {
		return nil, err
	}
	docs := make([]string, 0, len(inline)+len(attached))
	for _, p := range inline {
		docs = append(docs, p.Document)
	}
	for _, p := range attached {
		if v, ok := p.Version(p.DefaultVersion); ok {
			docs = append(docs, v.Document)
		}
	}
	out := make([]*policy.Policy, 0, len(docs))
	for _, d := range docs {
		p, err := policy.Parse(d, policy.IdentityKind)
		if err != nil {
			// Documents are validated when stored; one that no longer parses (a stricter
			// parser, a damaged record) may have denied something, so it denies everything
			// (the account root can still repair it) rather than failing every request or
			// being dropped, which would lift its denies.
			s.log.ErrorContext(ctx, "iam: a stored identity policy does not parse; it denies everything", "entity", e.Name, "err", err)
			if p, err = policy.Parse(denyAllDocument, policy.IdentityKind); err != nil {
				return nil, err
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// denyAllDocument stands for an identity policy that no longer parses.
const denyAllDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`

// sealContext binds a sealed secret to its access key id.
func sealContext(accessKeyID string) map[string]string {
	return map[string]string{"coffer:access-key-id": accessKeyID}
}
