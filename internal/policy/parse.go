package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Policy language versions. Policy variables exist only in 2012-10-17; in 2008-10-17 (or with no
// Version) "${aws:username}" is a literal string, as in AWS.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Parse validates a policy document of the given kind and compiles it. An invalid document is
// refused whole with an *Error; a returned Policy is never partly applied.
func Parse(doc string, kind Kind) (*Policy, error) {
	fields, ok := objectFields([]byte(doc))
	if !ok {
		return nil, malformed("Policies must be valid JSON and the first byte must be '{'")
	}
	p := &Policy{kind: kind}
	var statements json.RawMessage
	for _, f := range fields {
		switch f.name {
		case "Version":
			v, ok := jsonString(f.value)
			if !ok || (v != Version2012 && v != Version2008) {
				return nil, malformed("The policy failed legacy parsing: invalid Version")
			}
			p.version = v
		case "Id":
			v, ok := jsonString(f.value)
			if !ok {
				return nil, malformed("Policy Id must be a string")
			}
			p.id = v
		case "Statement":
			statements = f.value
		default:
			return nil, malformed("Unknown field " + f.name)
		}
	}
	if statements == nil {
		return nil, malformed("Missing required field Statement")
	}
	var list []json.RawMessage
	switch firstByte(statements) {
	case '[':
		if err := json.Unmarshal(statements, &list); err != nil {
			return nil, malformed("Statement must be an object or a list of objects")
		}
	case '{':
		list = []json.RawMessage{statements}
	default:
		return nil, malformed("Statement must be an object or a list of objects")
	}
	if len(list) == 0 {
		return nil, malformed("Could not parse the policy: Statement is empty!")
	}
	sids := make(map[string]bool, len(list))
	for _, raw := range list {
		s, err := parseStatement(raw, kind, p.version == Version2012)
		if err != nil {
			return nil, err
		}
		if s.sid != "" {
			if sids[s.sid] {
				return nil, malformed("Statement IDs (SID) in a single policy must be unique")
			}
			sids[s.sid] = true
		}
		p.statements = append(p.statements, s)
	}
	return p, nil
}

func malformed(msg string) *Error { return &Error{Message: msg} }

func malformedf(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

// parseStatement validates and compiles one statement.
func parseStatement(raw json.RawMessage, kind Kind, vars bool) (statement, error) {
	var s statement
	fields, ok := objectFields(raw)
	if !ok {
		return s, malformed("Statement must be an object or a list of objects")
	}
	var effect, principal, notPrincipal, action, notAction, resource, notResource, cond json.RawMessage
	for _, f := range fields {
		switch f.name {
		case "Sid":
			v, ok := jsonString(f.value)
			if !ok {
				return s, malformed("Statement ID (SID) must be a string")
			}
			if kind != ResourceKind && !alphanumeric(v) {
				return s, malformed("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*")
			}
			s.sid = v
		case "Effect":
			effect = f.value
		case "Principal":
			principal = f.value
		case "NotPrincipal":
			notPrincipal = f.value
		case "Action":
			action = f.value
		case "NotAction":
			notAction = f.value
		case "Resource":
			resource = f.value
		case "NotResource":
			notResource = f.value
		case "Condition":
			cond = f.value
		default:
			return s, malformed("Unknown field " + f.name)
		}
	}

	if effect == nil {
		return s, malformed("Missing required field Effect")
	}
	switch e, isString := jsonString(effect); {
	case e == "Allow":
	case e == "Deny":
		s.deny = true
	case isString:
		return s, malformed("Invalid effect: " + e)
	default:
		return s, malformedf("Invalid effect: %s", bytes.TrimSpace(effect))
	}

	if err := s.parsePrincipals(principal, notPrincipal, kind); err != nil {
		return s, err
	}
	if err := s.parseActions(action, notAction); err != nil {
		return s, err
	}
	if err := s.parseResources(resource, notResource, kind, vars); err != nil {
		return s, err
	}
	if cond != nil {
		conds, err := parseConditions(cond, vars)
		if err != nil {
			return s, err
		}
		s.conditions = conds
	}
	return s, nil
}

func (s *statement) parsePrincipals(principal, notPrincipal json.RawMessage, kind Kind) error {
	raw := principal
	switch {
	case principal != nil && notPrincipal != nil:
		return malformed("Statement can not contain both Principal and NotPrincipal")
	case kind == IdentityKind && (principal != nil || notPrincipal != nil):
		return malformed("Policy document should not specify a principal.")
	case kind == IdentityKind:
		return nil
	case notPrincipal != nil && kind == TrustKind:
		return malformed("Has prohibited field NotPrincipal")
	case notPrincipal != nil && !s.deny:
		return malformed("NotPrincipal is supported only with Effect Deny")
	case notPrincipal != nil:
		raw, s.notPrincipal = notPrincipal, true
	case principal == nil:
		return malformed("Missing required field Principal")
	}
	ps, ok := parsePrincipal(raw)
	if !ok {
		return malformed("Invalid principal in policy")
	}
	s.principals = ps
	return nil
}

// parsePrincipal parses "*" or {"AWS": ..., "Service": ..., "Federated": ..., "CanonicalUser": ...}.
func parsePrincipal(raw json.RawMessage) (*principalSet, bool) {
	ps := &principalSet{}
	if v, ok := jsonString(raw); ok {
		ps.any = v == "*"
		return ps, ps.any
	}
	fields, ok := objectFields(raw)
	if !ok || len(fields) == 0 {
		return nil, false
	}
	for _, f := range fields {
		vals, ok := stringList(f.value)
		if !ok {
			return nil, false
		}
		for _, v := range vals {
			switch f.name {
			case "AWS":
				ok = ps.addAWS(v)
			case "Service":
				ok = ps.addService(v)
			case "Federated":
				ok = v != "" && v != "*"
				ps.others++
			case "CanonicalUser":
				ok = len(v) == 64 && isHex(v)
				ps.others++
			default:
				ok = false
			}
			if !ok {
				return nil, false
			}
		}
	}
	return ps, true
}

func (s *statement) parseActions(action, notAction json.RawMessage) error {
	raw := action
	switch {
	case action != nil && notAction != nil:
		return malformed("Statement can not contain both Action and NotAction")
	case notAction != nil:
		raw, s.notAction = notAction, true
	case action == nil:
		return malformed("Missing required field Action")
	}
	vals, ok := stringList(raw)
	if !ok {
		return malformed("Policy has invalid action")
	}
	for _, v := range vals {
		if !validAction(v) {
			return malformed("Policy has invalid action")
		}
		p, _ := compilePattern(v, true, false)
		s.actions = append(s.actions, p)
	}
	return nil
}

// validAction checks "*" or "service:Action", wildcards allowed in the action part.
func validAction(v string) bool {
	if v == "*" {
		return true
	}
	service, name, ok := strings.Cut(v, ":")
	if !ok || service == "" || name == "" {
		return false
	}
	for i := 0; i < len(service); i++ {
		c := service[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '*' || c == '?' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (s *statement) parseResources(resource, notResource json.RawMessage, kind Kind, vars bool) error {
	raw := resource
	switch {
	case resource != nil && notResource != nil:
		return malformed("Statement can not contain both Resource and NotResource")
	case kind == TrustKind && resource != nil:
		return malformed("Has prohibited field Resource")
	case kind == TrustKind && notResource != nil:
		return malformed("Has prohibited field NotResource")
	case kind == TrustKind:
		return nil
	case notResource != nil:
		raw, s.notResource = notResource, true
	case resource == nil:
		return malformed("Missing required field Resource")
	}
	vals, ok := stringList(raw)
	if !ok {
		return malformed("Policy has invalid resource")
	}
	s.resources = make([]pattern, 0, len(vals))
	for _, v := range vals {
		if v != "*" && !(strings.HasPrefix(v, "arn:") && strings.Count(v, ":") >= 5) {
			return malformed("Policy has invalid resource")
		}
		p, ok := compilePattern(v, true, vars)
		if !ok {
			return malformed("Policy has invalid resource")
		}
		s.resources = append(s.resources, p)
	}
	return nil
}

// parseConditions compiles {"Operator": {"key": value or [values]}, ...}.
func parseConditions(raw json.RawMessage, vars bool) ([]condition, error) {
	blocks, ok := objectFields(raw)
	if !ok {
		return nil, malformed("Condition must be an object")
	}
	var conds []condition
	for _, b := range blocks {
		tmpl, ok := parseOperator(b.name)
		if !ok {
			return nil, malformedf("Invalid Condition type : %s", b.name)
		}
		keys, ok := objectFields(b.value)
		if !ok {
			return nil, malformedf("Condition block %s must be an object", b.name)
		}
		for _, k := range keys {
			prefix, name, found := strings.Cut(k.name, ":")
			if !found || prefix == "" || name == "" {
				return nil, malformed("Policy has an invalid condition key")
			}
			vals, ok := conditionValues(k.value)
			if !ok {
				return nil, malformedf("Invalid Condition value for key %s", k.name)
			}
			c := tmpl
			c.key = strings.ToLower(k.name)
			c.values = make([]conditionValue, 0, len(vals))
			for _, v := range vals {
				cv, ok := c.parseValue(v, vars)
				if !ok {
					return nil, malformedf("Invalid Condition value %q for %s", v, b.name)
				}
				c.values = append(c.values, cv)
			}
			conds = append(conds, c)
		}
	}
	return conds, nil
}
