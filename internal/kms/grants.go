package kms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
)

const maxGrantsPerKey = 50000

var grantOperations = []string{
	"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
	"ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey",
	"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
	"DeriveSharedSecret",
}

// CreateGrantInput holds CreateGrant's parameters.
type CreateGrantInput struct {
	KeyId             string
	GranteePrincipal  string
	RetiringPrincipal string
	Operations        []string
	Constraints       *GrantConstraints
	Name              string
	GrantTokens       []string
	DryRun            bool
}

// grant token format: "cgt1." + base64url(key id || 0x00 || grant id). It is not a secret: a
// grant token only lets the holder use a grant that already names it.
func grantToken(keyID, grantID string) string {
	return "cgt1." + base64.RawURLEncoding.EncodeToString([]byte(keyID+"\x00"+grantID))
}

func parseGrantToken(tok string) (keyID, grantID string, ok bool) {
	rest, found := strings.CutPrefix(tok, "cgt1.")
	if !found {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", "", false
	}
	keyID, grantID, ok = strings.Cut(string(b), "\x00")
	return keyID, grantID, ok
}

// CreateGrant stores a grant on a key and returns its token and id. The grant takes effect
// at once: the next request of its grantee may use it, with or without the token.
func (s *Service) CreateGrant(ctx context.Context, c Caller, in CreateGrantInput) (token, id string, err error) {
	if in.GranteePrincipal == "" || len(in.GranteePrincipal) > 256 {
		return "", "", errConstraint(in.GranteePrincipal, "granteePrincipal", "Member must have length between 1 and 256")
	}
	if len(in.Operations) == 0 {
		return "", "", errConstraint("[]", "operations", "Member must have length greater than or equal to 1")
	}
	for _, o := range in.Operations {
		if !slices.Contains(grantOperations, o) {
			return "", "", errConstraint(o, "operations", "Member must satisfy enum value set")
		}
	}
	if in.Name != "" && (len(in.Name) > 256 || !validAliasName(in.Name)) {
		return "", "", errConstraint(in.Name, "name", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$")
	}
	a := grantConds(askFor("CreateGrant"), in).withTokens(in.GrantTokens)
	a.grantOps, a.grantConstraints = in.Operations, in.Constraints
	e, err := s.resolve(ctx, c, in.KeyId, optsKeyOnly, a)
	if err != nil {
		return "", "", err
	}
	if err := s.checkState(e.key, opCreateGrant); err != nil {
		return "", "", err
	}
	if in.DryRun {
		return "", "", errDryRun
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	existing, err := s.store.ListGrants(ctx, e.key.ID)
	if err != nil {
		return "", "", s.internal("list grants", err)
	}
	for _, g := range existing {
		if in.Name != "" && g.Name == in.Name && g.GranteePrincipal == in.GranteePrincipal &&
			g.RetiringPrincipal == in.RetiringPrincipal && slices.Equal(g.Operations, in.Operations) {
			return g.Token, g.GrantID, nil // CreateGrant is idempotent for the same named grant
		}
	}
	if len(existing) >= maxGrantsPerKey {
		return "", "", errf(ErrLimitExceeded, "The number of grants for %s exceeds the limit of 50000.", s.arn(e.key))
	}
	idb := make([]byte, 32)
	rand.Read(idb)
	g := Grant{
		KeyID: e.key.ID, GrantID: hex.EncodeToString(idb), Name: in.Name, GranteePrincipal: in.GranteePrincipal,
		RetiringPrincipal: in.RetiringPrincipal, IssuingAccount: "arn:" + s.partition + ":iam::" + c.Account + ":root",
		Operations: in.Operations, Constraints: in.Constraints, Created: s.now().UTC(),
	}
	g.Token = grantToken(g.KeyID, g.GrantID)
	err = s.store.PutGrant(ctx, g)
	s.grantsChanged(ctx, g.KeyID)
	if err != nil {
		return "", "", s.storeErr("put grant", err)
	}
	return g.Token, g.GrantID, nil
}

// GrantEntry is one ListGrants result.
type GrantEntry struct {
	KeyId             string
	GrantId           string
	Name              string
	CreationDate      time.Time
	GranteePrincipal  string
	RetiringPrincipal string
	IssuingAccount    string
	Operations        []string
	Constraints       *GrantConstraints
}

func (s *Service) grantEntry(account string, g Grant) GrantEntry {
	return GrantEntry{KeyId: s.KeyARN(account, g.KeyID), GrantId: g.GrantID, Name: g.Name, CreationDate: g.Created,
		GranteePrincipal: g.GranteePrincipal, RetiringPrincipal: g.RetiringPrincipal, IssuingAccount: g.IssuingAccount,
		Operations: g.Operations, Constraints: g.Constraints}
}

// ListGrants lists a key's grants, optionally only grantID or only those of a grantee.
func (s *Service) ListGrants(ctx context.Context, c Caller, keyID, grantID, grantee string, p Page) ([]GrantEntry, string, error) {
	limit, err := p.limit(50)
	if err != nil {
		return nil, "", err
	}
	e, err := s.resolve(ctx, c, keyID, optsKeyOnly, askFor("ListGrants").with(condGrantForAWSResource, "false"))
	if err != nil {
		return nil, "", err
	}
	gs, err := s.store.ListGrants(ctx, e.key.ID)
	if err != nil {
		return nil, "", s.internal("list grants", err)
	}
	var all []GrantEntry
	found := false
	for _, g := range gs {
		if (grantID == "" || g.GrantID == grantID) && (grantee == "" || g.GranteePrincipal == grantee) {
			all = append(all, s.grantEntry(e.key.Account, g))
			found = found || g.GrantID == grantID
		}
	}
	if grantID != "" && !found {
		return nil, "", errf(ErrInvalidGrantID, "Grant ID %s is not valid.", grantID)
	}
	scope := strings.Join([]string{c.Account, e.key.ID, grantID, grantee}, "\x00")
	return page(ctx, s, listGrants, scope, all, func(g GrantEntry) string { return g.GrantId }, p.Marker, limit)
}

// ListRetirableGrants lists the grants, across keys, whose retiring principal is principal.
func (s *Service) ListRetirableGrants(ctx context.Context, c Caller, principal string, p Page) ([]GrantEntry, string, error) {
	limit, err := p.limit(50)
	if err != nil {
		return nil, "", err
	}
	if principal == "" {
		return nil, "", errValidation("RetiringPrincipal is required.")
	}
	if err := s.authorizeIdentity(c, "ListRetirableGrants", "*", nil); err != nil {
		return nil, "", err
	}
	var all []Grant
	issuer := "arn:" + s.partition + ":iam::" + c.Account + ":root"
	err = s.store.ScanGrants(ctx, func(g Grant) bool {
		// Only grants on the caller's own keys: AWS lists "the grants in the account" with
		// the retiring principal, never another account's.
		if g.RetiringPrincipal == principal && g.IssuingAccount == issuer {
			all = append(all, g)
		}
		return true
	})
	if errors.Is(err, ErrStoreDamaged) {
		// A damaged grant (perhaps of another account's key) is left out, not the listing.
		s.log.ErrorContext(ctx, "kms: damaged grant records left out of ListRetirableGrants", "err", err)
	} else if err != nil {
		return nil, "", s.internal("scan grants", err)
	}
	sortKey := func(g Grant) string { return g.KeyID + "\x00" + g.GrantID }
	slices.SortFunc(all, func(a, b Grant) int { return strings.Compare(sortKey(a), sortKey(b)) })
	gs, next, err := page(ctx, s, listRetirable, c.Account+"\x00"+principal, all, sortKey, p.Marker, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]GrantEntry, len(gs))
	for i, g := range gs {
		out[i] = GrantEntry{GrantId: g.GrantID, Name: g.Name, CreationDate: g.Created,
			GranteePrincipal: g.GranteePrincipal, RetiringPrincipal: g.RetiringPrincipal,
			IssuingAccount: g.IssuingAccount, Operations: g.Operations, Constraints: g.Constraints}
		if e, err := s.load(ctx, g.KeyID); err == nil {
			out[i].KeyId = s.arn(e.key)
		}
	}
	return out, next, nil
}

// RetireGrant deletes a grant named by its token, or by key and grant id. The grant itself
// authorizes it: its retiring principal may retire it, its grantee when the grant allows
// RetireGrant; otherwise kms:RetireGrant on the key must be allowed (its account's root, say).
func (s *Service) RetireGrant(ctx context.Context, c Caller, token, keyID, grantID string, dryRun bool) error {
	if token != "" {
		kid, gid, ok := parseGrantToken(token)
		if !ok {
			return errf(ErrInvalidGrantToken, "Grant token is not valid.")
		}
		if keyID == "" {
			keyID = kid
		}
		if grantID == "" {
			grantID = gid
		}
	}
	if keyID == "" || grantID == "" {
		return errValidation("Either GrantToken, or both KeyId and GrantId, must be specified.")
	}
	e, _, err := s.find(ctx, c, keyID, optsKeyOnly)
	if err != nil {
		return err
	}
	g, err := s.grantOf(ctx, e.key.ID, grantID)
	if err != nil {
		return err
	}
	retirer := c.isGrantee(g.RetiringPrincipal) ||
		(c.isGrantee(g.GranteePrincipal) && slices.Contains(g.Operations, "RetireGrant"))
	if !retirer {
		a := askFor("RetireGrant")
		a.noGrants = true
		if err := s.authorize(ctx, c, e, a); err != nil {
			return err
		}
	}
	return s.deleteGrant(ctx, e, grantID, dryRun)
}

// RevokeGrant deletes a grant of a key; it needs kms:RevokeGrant on the key.
func (s *Service) RevokeGrant(ctx context.Context, c Caller, keyID, grantID string, dryRun bool) error {
	e, err := s.resolve(ctx, c, keyID, optsKeyOnly, askFor("RevokeGrant").with(condGrantForAWSResource, "false"))
	if err != nil {
		return err
	}
	if _, err := s.grantOf(ctx, e.key.ID, grantID); err != nil {
		return err
	}
	return s.deleteGrant(ctx, e, grantID, dryRun)
}

// grantOf returns one grant of a key, InvalidGrantIdException when it has none of that id.
func (s *Service) grantOf(ctx context.Context, keyID, grantID string) (*Grant, error) {
	gs, err := s.keyGrants(ctx, keyID)
	if err != nil {
		return nil, s.internal("grants of key", err)
	}
	for i := range gs {
		if gs[i].GrantID == grantID {
			return &gs[i], nil
		}
	}
	return nil, errf(ErrInvalidGrantID, "Grant ID %s is not valid.", grantID)
}

func (s *Service) deleteGrant(ctx context.Context, e *entry, grantID string, dryRun bool) error {
	if dryRun {
		return errDryRun
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err := s.store.DeleteGrant(ctx, e.key.ID, grantID)
	s.grantsChanged(ctx, e.key.ID)
	if errors.Is(err, ErrStoreNoSuchGrant) {
		return errf(ErrInvalidGrantID, "Grant ID %s is not valid.", grantID)
	}
	if err != nil {
		return s.internal("delete grant", err)
	}
	return nil
}
