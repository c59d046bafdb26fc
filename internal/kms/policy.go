package kms

import (
	"context"
	"errors"
	"fmt"

	"github.com/coffer/coffer/internal/policy"
)

// maxPolicy is the key policy quota (32 KB), beyond which AWS answers LimitExceeded.
const maxPolicy = 32768

// Principals says whether IAM principals exist. The identity service implements it.
type Principals interface {
	// PrincipalExists reports whether arn names an existing principal: an account's root
	// (arn:PARTITION:iam::ACCOUNT:root, the account exists), a user or a role (with its path),
	// a role session (its role exists) or a federated user (its account exists).
	PrincipalExists(ctx context.Context, arn string) (bool, error)
}

// defaultPolicy is AWS's default key policy, formatted as GetKeyPolicy returns it.
func defaultPolicy(partition, account string) string {
	return fmt.Sprintf(`{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:%s:iam::%s:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`, partition, account)
}

// checkNewPolicy validates a key policy a caller sets on a key of account (CreateKey,
// PutKeyPolicy): its syntax, that every principal it names exists (bypass or not, as AWS
// checks), and, unless bypass is set, AWS's lockout safety check: the policy must let the
// caller call PutKeyPolicy on the key, evaluated as that call would be now (with the caller's
// identity policies where the policy delegates to its account, Deny and NotPrincipal
// statements, and the conditions of this request).
func (s *Service) checkNewPolicy(ctx context.Context, c Caller, keyARN, doc string, bypass bool) error {
	if len(doc) > maxPolicy {
		return errf(ErrLimitExceeded, "Policy exceeds the maximum size of 32768 bytes.")
	}
	for _, r := range doc {
		if !(r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xFF)) {
			return errf(ErrMalformedPolicy, "The key policy contains a character that is not allowed.")
		}
	}
	p, err := s.policies.Get(doc)
	if err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return errf(ErrMalformedPolicy, "%s", pe.Message)
		}
		return s.internal("parse key policy", err)
	}
	if err := s.checkPrincipals(ctx, p); err != nil {
		return err
	}
	if bypass {
		return nil
	}
	r := &policy.Request{
		Principal: c.principal(), Action: "kms:PutKeyPolicy", Resource: keyARN,
		Context: s.callerConditions(c),
	}
	r.Context[condBypassLockout] = []string{boolCond(false)}
	d := policy.Decide(r, policy.Inputs{
		Identity: c.Policies, IdentityAll: c.root(), Session: c.SessionPolicies,
		Resource: p, ResourceAccount: c.Account, ResourceAuthoritative: true,
	})
	s.putConditions(r.Context)
	if !d.Allowed {
		return errf(ErrMalformedPolicy, "The new key policy will not allow you to update the key policy in the future.")
	}
	return nil
}

// checkPrincipals refuses a key policy that names a principal that does not exist.
func (s *Service) checkPrincipals(ctx context.Context, p *policy.Policy) error {
	if s.people == nil {
		return nil
	}
	accounts, arns := p.AWSPrincipals()
	for _, a := range accounts {
		arns = append(arns, "arn:"+s.partition+":iam::"+a+":root")
	}
	for _, arn := range arns {
		ok, err := s.people.PrincipalExists(ctx, arn)
		if err != nil {
			return s.internal("look up a key policy principal", err)
		}
		if !ok {
			return errf(ErrMalformedPolicy, "Policy contains a statement with one or more invalid principals.")
		}
	}
	return nil
}

// GetKeyPolicy returns a key's policy; policyName must be "" or "default".
func (s *Service) GetKeyPolicy(ctx context.Context, c Caller, keyID, policyName string) (string, error) {
	if policyName != "" && policyName != "default" {
		return "", errf(ErrNotFound, "No such policy exists")
	}
	e, err := s.resolve(ctx, c, keyID, optsKeyOnly, askFor("GetKeyPolicy"))
	if err != nil {
		return "", err
	}
	return e.key.Policy, nil
}

// PutKeyPolicy replaces a key's policy. Unless bypass is set the new policy must pass the
// lockout safety check.
func (s *Service) PutKeyPolicy(ctx context.Context, c Caller, keyID, policyName, doc string, bypass bool) error {
	if policyName != "" && policyName != "default" {
		return errf(ErrNotFound, "No such policy exists")
	}
	if doc == "" {
		return errConstraint("", "policy", "Member must have length greater than or equal to 1")
	}
	a := askFor("PutKeyPolicy").with(condBypassLockout, boolCond(bypass))
	e, err := s.manageableAs(ctx, c, keyID, a, opAnyState)
	if err != nil {
		return err
	}
	// The check looks principals up in the identity store: outside the key's transaction.
	if err := s.checkNewPolicy(ctx, c, s.arn(e.key), doc, bypass); err != nil {
		return err
	}
	_, err = s.update(ctx, e.key.ID, func(k *Key) error {
		if err := s.checkState(k, opAnyState); err != nil {
			return err
		}
		k.Policy = doc
		return nil
	})
	return s.storeErr("put policy", err)
}

// ListKeyPolicies lists a key's policy names: always "default".
func (s *Service) ListKeyPolicies(ctx context.Context, c Caller, keyID string) ([]string, error) {
	if _, err := s.resolve(ctx, c, keyID, optsKeyOnly, askFor("ListKeyPolicies")); err != nil {
		return nil, err
	}
	return []string{"default"}, nil
}
