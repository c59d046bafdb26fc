package policy

import "strings"

// principalSet is a compiled Principal or NotPrincipal element.
type principalSet struct {
	any      bool     // "*" or {"AWS": "*"}: everyone, anonymous included
	accounts []string // account ids, named by id or by root ARN
	arns     []string // user, role, assumed-role session and federated-user ARNs
	services []string
	// federated and canonical count Federated and CanonicalUser principals: accepted so that
	// documents written for AWS parse, but no Coffer principal is one, so they never match.
	// S3 counts a grant to a federated identity provider as public.
	federated, canonical int
}

// match returns how the set names p (Principal element).
func (ps *principalSet) match(p *Principal) principalMatch {
	if p.Anonymous {
		if ps.any {
			return matchSpecific
		}
		return noMatch
	}
	best := noMatch
	if ps.any {
		// "*" is specific, but a session named by its own ARN below is more so.
		best = matchSpecific
	}
	for _, a := range ps.arns {
		switch {
		case a == p.ARN && p.RoleARN != "":
			return matchExact
		case a == p.ARN || (a == p.RoleARN && p.RoleARN != ""):
			best = matchSpecific
		}
	}
	if p.Service != "" {
		for _, s := range ps.services {
			if s == p.Service {
				best = matchSpecific
			}
		}
	}
	if best == noMatch && p.Account != "" {
		for _, a := range ps.accounts {
			if a != p.Account {
				continue
			}
			if isRootOf(p.ARN, a) {
				return matchSpecific
			}
			best = matchAccount
		}
	}
	return best
}

// excludes reports whether a NotPrincipal element lists p in full. AWS checks a principal at
// each of its levels (account, then role, then session): a user is excluded only when its
// account and its ARN are both listed, a role session only when its account and its role are.
func (ps *principalSet) excludes(p *Principal) bool {
	if ps.any {
		return true
	}
	if p.Anonymous {
		return false
	}
	if p.Service != "" {
		for _, s := range ps.services {
			if s == p.Service {
				return true
			}
		}
		return false
	}
	accountListed := false
	for _, a := range ps.accounts {
		if a == p.Account {
			accountListed = true
		}
	}
	if !accountListed {
		return false
	}
	if isRootOf(p.ARN, p.Account) {
		return true
	}
	want := p.ARN
	if p.RoleARN != "" {
		want = p.RoleARN
	}
	for _, a := range ps.arns {
		if a == want {
			return true
		}
	}
	return false
}

// isRootOf reports whether arn is arn:<partition>:iam::<account>:root, without allocating.
func isRootOf(arn, account string) bool {
	rest, ok := strings.CutSuffix(arn, ":root")
	if !ok {
		return false
	}
	if rest, ok = strings.CutSuffix(rest, account); !ok {
		return false
	}
	if rest, ok = strings.CutSuffix(rest, ":iam::"); !ok {
		return false
	}
	return strings.HasPrefix(rest, "arn:") && validPartition(rest[len("arn:"):])
}

// addAWS adds one value of a Principal's "AWS" entry. ok is false for an invalid principal.
func (ps *principalSet) addAWS(v string) bool {
	if v == "*" {
		ps.any = true
		return true
	}
	if validAccountID(v) {
		ps.accounts = append(ps.accounts, v)
		return true
	}
	f, ok := splitARN(v)
	if !ok || f.region != "" || !validAccountID(f.account) {
		return false
	}
	switch f.service {
	case "iam":
		typ, name, _ := strings.Cut(f.resource, "/")
		switch {
		case f.resource == "root":
			ps.accounts = append(ps.accounts, f.account)
			return true
		case (typ == "user" || typ == "role") && validIAMPath(name):
			ps.arns = append(ps.arns, v)
			return true
		}
	case "sts":
		typ, name, _ := strings.Cut(f.resource, "/")
		switch typ {
		case "assumed-role":
			role, session, ok := strings.Cut(name, "/")
			if ok && validIAMName(role) && validSessionName(session) {
				ps.arns = append(ps.arns, v)
				return true
			}
		case "federated-user":
			if validIAMName(name) {
				ps.arns = append(ps.arns, v)
				return true
			}
		}
	}
	return false
}

// addService adds a "Service" value such as "s3.amazonaws.com".
func (ps *principalSet) addService(v string) bool {
	if v == "" || v == "*" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	ps.services = append(ps.services, v)
	return true
}

func validAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validPartition(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// validIAMName checks a user or role name: 1-128 of [A-Za-z0-9+=,.@_-].
func validIAMName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("+=,.@_-", c) >= 0) {
			return false
		}
	}
	return true
}

// validIAMPath checks "name" or "path/.../name" of a user or role ARN.
func validIAMPath(s string) bool {
	parts := strings.Split(s, "/")
	for _, p := range parts[:len(parts)-1] {
		for i := 0; i < len(p); i++ {
			if c := p[i]; c < 0x21 || c > 0x7E {
				return false
			}
		}
	}
	return validIAMName(parts[len(parts)-1])
}

// validSessionName checks a role session name: 2-64 of [A-Za-z0-9+=,.@_-] (AWS allows 2-64;
// one character is accepted too, as some callers send it).
func validSessionName(s string) bool { return len(s) <= 64 && validIAMName(s) }

// arnFields are the six colon-separated parts of an ARN.
type arnFields struct {
	partition, service, region, account, resource string
}

// splitARN splits arn:partition:service:region:account:resource; the resource may hold colons.
func splitARN(s string) (arnFields, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !validPartition(parts[1]) || parts[2] == "" || parts[5] == "" {
		return arnFields{}, false
	}
	return arnFields{parts[1], parts[2], parts[3], parts[4], parts[5]}, true
}
