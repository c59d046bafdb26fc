package policy

// Kind is the kind of document Parse validates: where a policy is attached decides whether a
// Principal element is required or forbidden.
type Kind int

const (
	// IdentityKind is a user or role inline policy, a managed policy or a session policy:
	// a Principal element is an error.
	IdentityKind Kind = iota
	// ResourceKind is a bucket policy or a key policy: Principal or NotPrincipal is required.
	ResourceKind
	// TrustKind is a role trust policy: like ResourceKind, but without Resource.
	TrustKind
)

// Principal is who asks, as policies match it.
type Principal struct {
	// ARN is arn:aws:iam::111122223333:user/alice, arn:aws:iam::111122223333:root or
	// arn:aws:sts::111122223333:assumed-role/R/session.
	ARN string
	// Account is the principal's 12-digit account id; "" for an anonymous principal.
	Account string
	// RoleARN is a role session's role, arn:aws:iam::111122223333:role/R: a Principal element
	// naming the role matches its sessions.
	RoleARN string
	// Service is a service principal's name ("s3.amazonaws.com"); "" otherwise.
	Service string
	// Anonymous is true for an unsigned request, which only Principal "*" matches.
	Anonymous bool
}

// Request is one authorization question.
type Request struct {
	Principal Principal
	// Action is the action asked for ("s3:GetObject", "kms:Decrypt"), matched case-insensitively.
	Action string
	// Resource is the ARN of the resource acted on, matched case-sensitively.
	Resource string
	// Context holds the condition key values of the request, keyed by the lower-cased key
	// ("aws:sourceip", "s3:prefix", "kms:encryptioncontext:app"). A key that is absent or has
	// no value is missing, as the Null operator sees it.
	Context map[string][]string
}

// Effect is what one policy says about a request.
type Effect int

const (
	// NotApplicable means no statement matched: an implicit deny.
	NotApplicable Effect = iota
	// Allow means a statement naming this principal specifically (its user, role or session
	// ARN, "*", or the account when the principal is that account's root user) allowed.
	Allow
	// AllowAccount means a resource or trust policy allowed only through an account principal
	// ("111122223333" or arn:aws:iam::111122223333:root) of a principal that is not the root
	// user: a delegation to that account's identity policies.
	AllowAccount
	// Deny means an explicit deny matched; it wins over everything.
	Deny
)

// String names the effect for test output and logs.
func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case AllowAccount:
		return "AllowAccount"
	case Deny:
		return "Deny"
	}
	return "NotApplicable"
}

// Policy is a parsed, validated and compiled policy document. It is immutable and safe for
// concurrent use.
type Policy struct {
	kind       Kind
	version    string
	id         string
	statements []statement
	public     bool // IsPublic, decided once at Parse
}

// Kind returns the kind the policy was parsed as.
func (p *Policy) Kind() Kind { return p.kind }

// Evaluate returns Deny if a matching statement denies, else Allow or AllowAccount if a
// matching statement allows (Allow when any allowing statement names the principal
// specifically), else NotApplicable. A nil policy is NotApplicable.
func (p *Policy) Evaluate(r *Request) Effect {
	e, _ := p.evaluate(r)
	return e
}

// evaluate is Evaluate that also tells whether an Allow came from a statement naming the
// principal's own session ARN, which session policies do not limit.
func (p *Policy) evaluate(r *Request) (Effect, bool) {
	best, direct := NotApplicable, false
	if p == nil {
		return best, direct
	}
	for i := range p.statements {
		s := &p.statements[i]
		m := s.match(r)
		if m == noMatch {
			continue
		}
		if s.deny {
			return Deny, false
		}
		switch m {
		case matchExact:
			best, direct = Allow, true
		case matchSpecific:
			if !(best == Allow && direct) {
				best = Allow
			}
		case matchAccount:
			if best == NotApplicable {
				best = AllowAccount
			}
		}
	}
	return best, direct
}
