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
