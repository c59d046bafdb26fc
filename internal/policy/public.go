package policy

import "strings"

// IsPublic reports whether a bucket policy is public as S3 Block Public Access defines it ("The
// meaning of public"): S3 assumes a policy is public unless every Allow statement grants only to
// fixed principals (account ids, user, role and session ARNs, service principals), or is limited
// by a condition fixing one of the keys S3 lists to values without wildcards or policy
// variables. A statement allowing "*", {"AWS": "*"} or a Federated principal without such a
// condition makes the policy public. GetBucketPolicyStatus answers it; BlockPublicPolicy refuses
// a PutBucketPolicy with it; RestrictPublicBuckets limits a bucket with it to its own account.
func (p *Policy) IsPublic() bool { return p.public }

// decidePublic decides IsPublic from the statements, once, when the policy is parsed.
func (p *Policy) decidePublic() bool {
	for i := range p.statements {
		s := &p.statements[i]
		if s.deny || s.principals == nil {
			continue
		}
		if !s.principals.any && s.principals.federated == 0 {
			continue // fixed principals only (NotPrincipal is refused with Allow)
		}
		if !s.limitedByCondition() {
			return true
		}
	}
	return false
}

// limitedByCondition reports whether a condition of the statement fixes one of the keys that
// make a grant non-public. Only positive operators without IfExists or set qualifier limit: a
// negated operator, IfExists or ForAllValues holds when the key is missing.
func (s *statement) limitedByCondition() bool {
	for i := range s.conditions {
		c := &s.conditions[i]
		if c.negated || c.ifExists || c.set != singleValued || !limitingKey(c.key) {
			continue
		}
		if c.fixed() {
			return true
		}
	}
	return false
}

// limitingKey reports whether a condition key, fixed, keeps a wildcard principal's grant from
// being public: the keys S3 lists, and the principal keys (aws:PrincipalOrgID and its kin).
func limitingKey(key string) bool {
	switch key {
	case "aws:sourceip", "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner",
		"aws:sourceaccount", "s3:x-amz-server-side-encryption-aws-kms-key-id", "aws:userid",
		"s3:dataaccesspointarn", "s3:dataaccesspointaccount",
		"aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:principalservicename":
		return true
	}
	return false
}

// fixed reports whether every value of the condition is fixed: a string or ARN without
// wildcard or variable, or an address block no broader than /8 (IPv4) or /32 (IPv6). S3's two
// exceptions: aws:userid may end in ":*" (all sessions of one role, "AROLEID:*"), and
// s3:DataAccessPointArn may wildcard the access point name when the account is fixed.
func (c *condition) fixed() bool {
	switch c.op {
	case opIPAddress:
		if c.key != "aws:sourceip" {
			return false
		}
		for i := range c.values {
			pfx := c.values[i].prefix
			if pfx.Addr().Is4() && pfx.Bits() < 8 || !pfx.Addr().Is4() && pfx.Bits() < 32 {
				return false
			}
		}
		return true
	case opStringEquals, opStringEqualsIgnoreCase, opStringLike, opArnLike:
		for i := range c.values {
			v := &c.values[i].str
			if v.vars != nil || !fixedValue(c.key, v.text) {
				return false
			}
		}
		return true
	}
	return false
}

// fixedValue reports whether one compiled value of a limiting key is fixed.
func fixedValue(key, text string) bool {
	switch key {
	case "aws:userid":
		if role, ok := strings.CutSuffix(text, string([]byte{':', anyRun})); ok {
			text = role
		}
	case "s3:dataaccesspointarn":
		parts := strings.SplitN(text, ":", 6)
		if len(parts) == 6 && strings.HasPrefix(parts[5], "accesspoint/") {
			return text != "" && !hasWildcard(strings.Join(parts[:5], ":")) && validAccountID(parts[4])
		}
	}
	return text != "" && !hasWildcard(text)
}

// hasWildcard reports a wildcard in a compiled value, or a "*" or "?" that StringEquals takes
// literally: S3 does not look at the operator, and a value that reads as a wildcard is not
// counted as fixed.
func hasWildcard(text string) bool {
	return strings.ContainsAny(text, "*?") || strings.IndexByte(text, anyRun) >= 0 || strings.IndexByte(text, anyOne) >= 0
}
