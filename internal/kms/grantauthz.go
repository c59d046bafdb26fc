package kms

import (
	"context"
	"maps"
	"slices"
)

// grantAllows reports whether a grant on the key lets c perform a.op: the grant names c (or,
// for a role session, its role) as grantee, lists the operation and, for an operation that
// takes an encryption context, the request's context satisfies its constraints.
func (s *Service) grantAllows(ctx context.Context, c Caller, keyID string, a ask) (bool, error) {
	gs, err := s.keyGrants(ctx, keyID)
	if err != nil {
		return false, s.internal("grants of key", err)
	}
	for i := range gs {
		g := &gs[i]
		if c.isGrantee(g.GranteePrincipal) && slices.Contains(g.Operations, a.op) &&
			(!a.hasEC || g.Constraints.allow(a.ec)) &&
			(a.op != "CreateGrant" || (subset(a.grantOps, g.Operations) && g.Constraints.within(a.grantConstraints))) {
			return true, nil
		}
	}
	return false, nil
}

// isGrantee reports whether a grant's grantee principal names c: its ARN, or the role of a
// role session.
func (c Caller) isGrantee(principal string) bool {
	return principal != "" && (principal == c.ARN || principal == c.RoleARN)
}

// allow reports whether a request's encryption context ec satisfies the constraints:
// EncryptionContextEquals must equal it exactly, EncryptionContextSubset must be contained in
// it. Keys and values compare case-sensitively, as the ciphertext binds them.
func (gc *GrantConstraints) allow(ec map[string]string) bool {
	if gc == nil {
		return true
	}
	if gc.EncryptionContextEquals != nil && !maps.Equal(gc.EncryptionContextEquals, ec) {
		return false
	}
	for k, v := range gc.EncryptionContextSubset {
		if got, ok := ec[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// checkGrantTokens refuses a grant token this KMS did not issue (InvalidGrantTokenException).
// A valid token adds nothing: grants take effect as soon as CreateGrant returns.
func checkGrantTokens(tokens []string) error {
	if len(tokens) > 10 {
		return errConstraint("", "grantTokens", "Member must have length less than or equal to 10")
	}
	for _, t := range tokens {
		if _, _, ok := parseGrantToken(t); !ok {
			return errf(ErrInvalidGrantToken, "Grant token is not valid.")
		}
	}
	return nil
}

// within reports whether constraints child are at least as strict as gc: every context
// child allows, gc allows too.
func (gc *GrantConstraints) within(child *GrantConstraints) bool {
	if gc == nil {
		return true
	}
	if child == nil {
		return false
	}
	if child.EncryptionContextEquals != nil {
		return gc.allow(child.EncryptionContextEquals)
	}
	// A subset constraint allows any larger context: it is as strict only when gc is a subset
	// constraint contained in it.
	return gc.EncryptionContextEquals == nil && (&GrantConstraints{EncryptionContextSubset: gc.EncryptionContextSubset}).allow(child.EncryptionContextSubset)
}

// subset reports whether every one of ops is in of.
func subset(ops, of []string) bool {
	for _, o := range ops {
		if !slices.Contains(of, o) {
			return false
		}
	}
	return true
}
