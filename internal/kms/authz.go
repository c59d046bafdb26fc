package kms

import (
	"context"

	"github.com/coffer/coffer/internal/policy"
)

// ask is what one operation asks of a key: the action, and what of the request its
// authorization looks at.
type ask struct {
	op string // operation as a grant names it; the action is "kms:"+op
	// conds are the request's kms: condition keys (lower-cased names) beyond those of the
	// key itself, which authorize adds.
	conds map[string][]string
	// ec is the request's encryption context when the operation takes one (hasEC): grant
	// constraints apply to such operations only.
	ec     map[string]string
	hasEC  bool
	tokens []string // grant tokens
	// alias is the alias the request named the key by (kms:RequestAlias), set by resolve.
	alias string
	// grantOps and grantConstraints are what a CreateGrant request grants: a grant allowing
	// CreateGrant lets its grantee grant a subset of its own operations, under constraints at
	// least as strict as its own.
	grantOps         []string
	grantConstraints *GrantConstraints
	// noGrants leaves grants out of the decision: RetireGrant, which a grant authorizes only
	// for itself (RetireGrant checks that).
	noGrants bool
}

func askFor(op string) ask { return ask{op: op} }

// withEC returns a with the request's encryption context: its condition keys, and the grant
// constraints it must satisfy.
func (a ask) withEC(ec map[string]string) ask {
	a.ec, a.hasEC = ec, true
	a.conds = addContextConds(a.conds, ec)
	return a
}

// with returns a with one more request condition key.
func (a ask) with(key string, values ...string) ask {
	if len(values) == 0 || (len(values) == 1 && values[0] == "") {
		return a
	}
	m := make(map[string][]string, len(a.conds)+1)
	for k, v := range a.conds {
		m[k] = v
	}
	m[key] = values
	a.conds = m
	return a
}

func (a ask) withTokens(tokens []string) ask {
	a.tokens = tokens
	return a
}

// authorize decides whether c may perform a.op on the key of e: the key policy decides, the
// caller's identity policies count where it allows the caller's account, grants add
// permissions, and an explicit deny anywhere wins (AWS's "Determining access to an AWS KMS
// key"). AWS managed keys are decided by their key policy like any other.
func (s *Service) authorize(ctx context.Context, c Caller, e *entry, a ask) error {
	s.noteKey(ctx, e.arn)
	if err := checkGrantTokens(a.tokens); err != nil {
		return err
	}
	if c.anonymous() {
		return errAnonymous
	}
	k := e.key
	r := &policy.Request{
		Principal: c.principal(),
		Action:    "kms:" + a.op,
		Resource:  e.arn,
	}
	aliases, err := s.aliasesOf(ctx, k.Account, k.ID)
	if err != nil {
		return s.internal("aliases of key", err)
	}
	r.Context = s.keyConditions(c, k, a, aliases)
	grant := false
	if !a.noGrants {
		if grant, err = s.grantAllows(ctx, c, k.ID, a); err != nil {
			return err
		}
	}
	d := policy.Decide(r, policy.Inputs{
		Identity: c.Policies, IdentityAll: c.root(), Session: c.SessionPolicies,
		Resource: s.keyPolicy(e), ResourceAccount: k.Account, ResourceAuthoritative: true,
		GrantAllows: grant,
	})
	s.putConditions(r.Context)
	if d.Allowed {
		return nil
	}
	return deniedError(c, r, d, "resource-based policy")
}

// authorizeIdentity decides an operation that names no key (CreateKey, ListKeys, ...) or an
// alias's own permission: the caller's identity policies alone, the account root holding
// every identity permission. resource is the alias ARN, or "*".
func (s *Service) authorizeIdentity(c Caller, op, resource string, conds map[string][]string) error {
	if c.anonymous() {
		return errAnonymous
	}
	r := &policy.Request{
		Principal: c.principal(),
		Action:    "kms:" + op,
		Resource:  resource,
		Context:   s.callerConditions(c),
	}
	for k, v := range conds {
		r.Context[k] = v
	}
	d := policy.Decide(r, policy.Inputs{
		Identity: c.Policies, IdentityAll: c.root(), Session: c.SessionPolicies, ResourceAccount: c.Account,
	})
	s.putConditions(r.Context)
	if d.Allowed {
		return nil
	}
	return deniedError(c, r, d, "identity-based policy")
}

// errAnonymous refuses a caller without an account: an unsigned S3 request reaching an SSE-KMS
// object (S3 refuses anonymous access to those whatever the policies say). Even a key policy
// allowing "*" does not admit it.
var errAnonymous = errf(ErrAccessDenied, "Access Denied")

// deniedError is AWS's AccessDeniedException text for a refused request. It names the
// principal, action and resource the caller already knows, never a policy's text.
func deniedError(c Caller, r *policy.Request, d policy.Decision, defaultKind string) error {
	kind := d.DeniedBy
	if kind == "" {
		kind = defaultKind
	}
	return errf(ErrAccessDenied, "%s", policy.DeniedMessage(c.ARN, r.Action, r.Resource, d.ExplicitDeny, kind))
}

// keyPolicy returns the compiled policy of a key, compiling it once per policy text. A stored
// policy that no longer parses (written before validation was strict) allows nothing.
func (s *Service) keyPolicy(e *entry) *policy.Policy {
	if cp := e.policy.Load(); cp != nil {
		return cp.p
	}
	p, err := s.policies.Get(e.key.Policy)
	if err != nil {
		s.log.Error("kms: a stored key policy does not parse; it allows nothing", "key", e.key.ID, "err", err)
	}
	e.policy.Store(&compiledPolicy{p: p})
	return p
}

// compiledPolicy holds a key's compiled policy, nil when it has none that parses.
type compiledPolicy struct{ p *policy.Policy }
