package policy

import "strings"

// IsPublic reports whether a bucket or key policy is public as S3 Block Public Access defines
// it ("The meaning of public"): some statement allows a wildcard principal ("*", {"AWS": "*"}
// or a NotPrincipal) without a condition that fixes one of the limiting keys (aws:SourceIp,
// aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceAccount, aws:SourceOwner,
// aws:PrincipalOrgID, aws:PrincipalAccount, aws:userid, s3:DataAccessPointArn, ...) to
// non-wildcard values.
func (p *Policy) IsPublic() bool {
	for i := range p.statements {
		s := &p.statements[i]
		if s.deny || s.principals == nil {
			continue
		}
		if !s.notPrincipal && !s.principals.any {
			continue
		}
		if !s.limitedByCondition() {
			return true
		}
	}
	return false
}

// limitedByCondition reports whether a condition of the statement fixes one of the keys that
// make a wildcard principal non-public to values without wildcards.
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

// fixed reports whether every value of a positive condition names a fixed thing: a string or
// ARN without wildcards, or an address block that is not huge.
func (c *condition) fixed() bool {
	switch c.op {
	case opStringEquals, opStringEqualsIgnoreCase, opStringLike, opArnLike:
		for i := range c.values {
			v := &c.values[i].str
			if v.vars != nil || v.text == "" || strings.IndexByte(v.text, anyRun) >= 0 || strings.IndexByte(v.text, anyOne) >= 0 {
				return false
			}
		}
		return true
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
	}
	return false
}

// limitingKey reports whether a condition key, fixed to a value, keeps a statement with a
// wildcard principal from being public.
func limitingKey(key string) bool {
	switch key {
	case "aws:sourceip", "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount",
		"aws:sourceowner", "aws:principalorgid", "aws:principalaccount", "aws:principalarn",
		"aws:userid", "aws:principalorgpaths", "aws:principalservicename", "aws:principalservicenameslist",
		"s3:dataaccesspointarn", "s3:dataaccesspointaccount", "kms:calleraccount":
		return true
	}
	return false
}
