package iam

import (
	"context"
	"fmt"
	"strings"
	"unicode"
)

// IAM's policy size quotas, in characters other than white space, as IAM counts them. They
// also bound what one principal's policies cost every request it makes (each is parsed on
// lookup and evaluated per request).
const (
	maxUserPolicySize    = 2048  // the inline policies of a user, together
	maxRolePolicySize    = 10240 // the inline policies of a role, together
	maxManagedPolicySize = 6144  // one managed policy version
	maxTrustPolicySize   = 2048  // a role's trust policy
	// maxAttachedPolicies is how many managed policies a user or role may have attached.
	maxAttachedPolicies = 10
)

// policySize is a policy's size as IAM's quotas count it: its characters but white space.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// checkInlineSize refuses an inline policy that would take the entity's inline policies
// together past IAM's quota; a policy of the same name is replaced, not added to.
func (s *Service) checkInlineSize(ctx context.Context, e Entity, name, doc string) error {
	existing, err := s.store.ListInlinePolicies(ctx, e)
	if err != nil {
		return s.noSuchEntity(err, e)
	}
	size := policySize(doc)
	for _, p := range existing {
		if !strings.EqualFold(p.Name, name) {
			size += policySize(p.Document)
		}
	}
	max := maxUserPolicySize
	if e.Kind == KindRole {
		max = maxRolePolicySize
	}
	if size > max {
		return errorf(ErrLimitExceeded, fmt.Sprintf("Maximum policy size of %d bytes exceeded for %s %s", max, e.noun(), e.Name))
	}
	return nil
}

// checkManagedSize refuses a managed policy version over IAM's quota.
func checkManagedSize(doc string) error {
	if policySize(doc) > maxManagedPolicySize {
		return errorf(ErrLimitExceeded, fmt.Sprintf("Cannot exceed quota for PolicySize: %d", maxManagedPolicySize))
	}
	return nil
}

// checkTrustSize refuses a trust policy over IAM's quota.
func checkTrustSize(doc string) error {
	if policySize(doc) > maxTrustPolicySize {
		return errorf(ErrLimitExceeded, fmt.Sprintf("Cannot exceed quota for ACLSizePerRole: %d", maxTrustPolicySize))
	}
	return nil
}

// checkAttachments refuses to attach one more managed policy to an entity that has IAM's
// quota of them already; attaching one it has is not one more.
func (s *Service) checkAttachments(ctx context.Context, e Entity, name string) error {
	attached, err := s.store.ListAttachedPolicies(ctx, e)
	if err != nil {
		return s.noSuchEntity(err, e)
	}
	for _, p := range attached {
		if strings.EqualFold(p.Name, name) {
			return nil
		}
	}
	if len(attached) >= maxAttachedPolicies {
		noun := "PoliciesPerUser"
		if e.Kind == KindRole {
			noun = "PoliciesPerRole"
		}
		return errorf(ErrLimitExceeded, fmt.Sprintf("Cannot exceed quota for %s: %d", noun, maxAttachedPolicies))
	}
	return nil
}
