package policy

// statement is one compiled policy statement.
type statement struct {
	sid  string
	deny bool

	// principals is nil when the statement has no Principal element (identity policies);
	// notPrincipal inverts it.
	principals   *principalSet
	notPrincipal bool

	actions     []pattern
	notAction   bool
	resources   []pattern // nil when the statement has no Resource element (trust policies)
	notResource bool

	conditions []condition

	// view is the statement as written, for Statements; kept apart so that evaluation walks
	// compact statements.
	view *Statement
}

// principalMatch is how well a statement's Principal element matches a request's principal.
type principalMatch int

const (
	noMatch       principalMatch = iota
	matchAccount                 // through an account principal, for a principal that is not its root
	matchSpecific                // "*", the principal's user or role ARN, or the root itself
	matchExact                   // the principal's own session ARN, named exactly
)

// match reports whether the statement applies to r and, for a statement with a Principal
// element, how it names the principal. Cheap tests come first.
func (s *statement) match(r *Request) principalMatch {
	if !s.matchAction(r.Action) {
		return noMatch
	}
	m := matchSpecific
	if s.principals != nil {
		if s.notPrincipal {
			if s.principals.excludes(&r.Principal) {
				return noMatch
			}
		} else if m = s.principals.match(&r.Principal); m == noMatch {
			return noMatch
		}
	}
	if s.resources != nil && !s.matchResource(r) {
		return noMatch
	}
	for i := range s.conditions {
		if !s.conditions[i].holds(r.Context) {
			return noMatch
		}
	}
	return m
}

func (s *statement) matchAction(action string) bool {
	found := false
	for i := range s.actions {
		if s.actions[i].matchFixed(action, true) {
			found = true
			break
		}
	}
	return found != s.notAction
}

// matchResource matches the request's resource; a policy variable without a value makes the
// statement not apply, whether in Resource or NotResource.
func (s *statement) matchResource(r *Request) bool {
	found := false
	for i := range s.resources {
		m, ok := s.resources[i].match(r.Resource, r.Context, false)
		if !ok {
			return false
		}
		if m {
			found = true
			break
		}
	}
	return found != s.notResource
}
