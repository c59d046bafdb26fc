package policy

// Statement is one statement of a parsed policy as it was written: for a service's own checks
// when a policy is stored (S3 refuses a bucket policy whose resources are outside the bucket or
// whose actions apply to none of its resources; KMS's key policy resources are "*").
type Statement struct {
	Sid         string
	Effect      Effect   // Allow or Deny
	Actions     []string // Action or, when NotAction is set, NotAction values
	NotAction   bool
	Resources   []string // Resource or NotResource values; nil in a trust policy
	NotResource bool
	// ConditionKeys are the condition keys the statement tests, lower-cased, once per
	// operator that tests them.
	ConditionKeys []string
}

// Statements returns the policy's statements as written, in document order. The slices are
// shared with the policy and must not be modified.
func (p *Policy) Statements() []Statement {
	out := make([]Statement, len(p.statements))
	for i := range p.statements {
		out[i] = *p.statements[i].view
	}
	return out
}

// AWSPrincipals returns what the policy's Principal and NotPrincipal elements name as "AWS"
// principals, in document order: account ids (written as an id or as the account's root ARN)
// and user, role, role-session and federated-user ARNs; "*" is in neither. KMS checks that
// each exists before it stores a key policy.
func (p *Policy) AWSPrincipals() (accounts, arns []string) {
	for i := range p.statements {
		if ps := p.statements[i].principals; ps != nil {
			accounts = append(accounts, ps.accounts...)
			arns = append(arns, ps.arns...)
		}
	}
	return accounts, arns
}
