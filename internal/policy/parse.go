package policy

import (
	"bytes"
	"encoding/json"
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
	if firstByte([]byte(doc)) != '{' {
		return nil, refuse(ReasonSyntax, "Policies must be valid JSON and the first byte must be '{'")
	}
	fields, rerr := members([]byte(doc), refuse(ReasonSyntax, "This policy contains invalid Json"))
	if rerr != nil {
		return nil, rerr
	}
	p := &Policy{kind: kind}
	var statements json.RawMessage
	for _, f := range fields {
		switch f.name {
		case "Version":
			v, ok := jsonString(f.value)
			if !ok || (v != Version2012 && v != Version2008) {
				return nil, refuse(ReasonVersion, "The policy failed legacy parsing: invalid Version")
			}
			p.version = v
		case "Id":
			v, ok := jsonString(f.value)
			if !ok {
				return nil, refuse(ReasonSyntax, "Policy Id must be a string")
			}
			p.id = v
		case "Statement":
			statements = f.value
		default:
			return nil, refuse(ReasonUnknownField, "Unknown field "+f.name)
		}
	}
	if statements == nil {
		return nil, refuse(ReasonMissingField, "Missing required field Statement")
	}
	var list []json.RawMessage
	switch firstByte(statements) {
	case '[':
		if err := json.Unmarshal(statements, &list); err != nil {
			return nil, refuse(ReasonSyntax, "Statement must be an object or a list of objects")
		}
	case '{':
		list = []json.RawMessage{statements}
	default:
		return nil, refuse(ReasonSyntax, "Statement must be an object or a list of objects")
	}
	if len(list) == 0 {
		return nil, refuse(ReasonMissingField, "Could not parse the policy: Statement is empty!")
	}
	sids := make(map[string]bool, len(list))
	for _, raw := range list {
		s, err := parseStatement(raw, kind, p.version == Version2012)
		if err != nil {
			return nil, err
		}
		if s.sid != "" {
			if sids[s.sid] {
				return nil, refuse(ReasonSid, "Statement IDs (SID) in a single policy must be unique")
			}
			sids[s.sid] = true
		}
		p.statements = append(p.statements, s)
	}
	p.public = p.decidePublic()
	return p, nil
}

// parseStatement validates and compiles one statement.
func parseStatement(raw json.RawMessage, kind Kind, vars bool) (statement, error) {
	s := statement{view: &Statement{}}
	fields, rerr := members(raw, refuse(ReasonSyntax, "Statement must be an object or a list of objects"))
	if rerr != nil {
		return s, rerr
	}
	var effect, principal, notPrincipal, action, notAction, resource, notResource, cond json.RawMessage
	for _, f := range fields {
		switch f.name {
		case "Sid":
			v, ok := jsonString(f.value)
			if !ok {
				return s, refuse(ReasonSid, "Statement ID (SID) must be a string")
			}
			if kind != ResourceKind && !alphanumeric(v) {
				return s, refuse(ReasonSid, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*")
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
			return s, refuse(ReasonUnknownField, "Unknown field "+f.name)
		}
	}

	if effect == nil {
		return s, refuse(ReasonMissingField, "Missing required field Effect")
	}
	switch e, isString := jsonString(effect); {
	case e == "Allow":
	case e == "Deny":
		s.deny = true
	case isString:
		return s, refuse(ReasonEffect, "Invalid effect: "+e)
	default:
		return s, refusef(ReasonEffect, "Invalid effect: %s", bytes.TrimSpace(effect))
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
	s.view.Sid, s.view.NotAction, s.view.NotResource = s.sid, s.notAction, s.notResource
	s.view.Effect = Allow
	if s.deny {
		s.view.Effect = Deny
	}
	for i := range s.conditions {
		s.view.ConditionKeys = append(s.view.ConditionKeys, s.conditions[i].key)
	}
	return s, nil
}

func (s *statement) parsePrincipals(principal, notPrincipal json.RawMessage, kind Kind) error {
	raw := principal
	switch {
	case principal != nil && notPrincipal != nil:
		return refuse(ReasonPrincipal, "Statement can not contain both Principal and NotPrincipal")
	case kind == IdentityKind && (principal != nil || notPrincipal != nil):
		return refuse(ReasonProhibitedField, "Policy document should not specify a principal.")
	case kind == IdentityKind:
		return nil
	case notPrincipal != nil && kind == TrustKind:
		return refuse(ReasonProhibitedField, "Has prohibited field NotPrincipal")
	case notPrincipal != nil && !s.deny:
		return refuse(ReasonPrincipal, "NotPrincipal is supported only with Effect Deny")
	case notPrincipal != nil:
		raw, s.notPrincipal = notPrincipal, true
	case principal == nil:
		return refuse(ReasonMissingField, "Missing required field Principal")
	}
	ps, ok := parsePrincipal(raw)
	if !ok {
		return refuse(ReasonPrincipal, "Invalid principal in policy")
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
	fields, dup, ok := objectFields(raw)
	if !ok || dup != "" || len(fields) == 0 {
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
				ps.federated++
			case "CanonicalUser":
				ok = len(v) == 64 && isHex(v)
				ps.canonical++
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
		return refuse(ReasonAction, "Statement can not contain both Action and NotAction")
	case notAction != nil:
		raw, s.notAction = notAction, true
	case action == nil:
		return refuse(ReasonMissingField, "Missing required field Action")
	}
	vals, ok := stringList(raw)
	if !ok {
		return refuse(ReasonAction, "Policy has invalid action")
	}
	for _, v := range vals {
		if !validAction(v) {
			return refuse(ReasonAction, "Policy has invalid action")
		}
		p, _ := compilePattern(v, true, false)
		s.actions = append(s.actions, p)
		s.view.Actions = append(s.view.Actions, v)
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
		return refuse(ReasonResource, "Statement can not contain both Resource and NotResource")
	case kind == TrustKind && resource != nil:
		return refuse(ReasonProhibitedField, "Has prohibited field Resource")
	case kind == TrustKind && notResource != nil:
		return refuse(ReasonProhibitedField, "Has prohibited field NotResource")
	case kind == TrustKind:
		return nil
	case notResource != nil:
		raw, s.notResource = notResource, true
	case resource == nil:
		return refuse(ReasonMissingField, "Missing required field Resource")
	}
	vals, ok := stringList(raw)
	if !ok {
		return refuse(ReasonResource, "Policy has invalid resource")
	}
	s.resources = make([]pattern, 0, len(vals))
	for _, v := range vals {
		if v != "*" && !(strings.HasPrefix(v, "arn:") && strings.Count(v, ":") >= 5) {
			return refuse(ReasonResource, "Policy has invalid resource")
		}
		p, ok := compilePattern(v, true, vars)
		if !ok {
			return refuse(ReasonResource, "Policy has invalid resource")
		}
		s.resources = append(s.resources, p)
		s.view.Resources = append(s.view.Resources, v)
	}
	return nil
}

// parseConditions compiles {"Operator": {"key": value or [values]}, ...}.
func parseConditions(raw json.RawMessage, vars bool) ([]condition, error) {
	blocks, rerr := members(raw, refuse(ReasonCondition, "Condition must be an object"))
	if rerr != nil {
		return nil, rerr
	}
	var conds []condition
	for _, b := range blocks {
		tmpl, ok := parseOperator(b.name)
		if !ok {
			return nil, refusef(ReasonCondition, "Invalid Condition type : %s", b.name)
		}
		keys, rerr := members(b.value, refusef(ReasonCondition, "Condition block %s must be an object", b.name))
		if rerr != nil {
			return nil, rerr
		}
		for _, k := range keys {
			prefix, name, found := strings.Cut(k.name, ":")
			if !found || prefix == "" || name == "" {
				return nil, refuse(ReasonCondition, "Policy has an invalid condition key")
			}
			vals, ok := conditionValues(k.value)
			if !ok {
				return nil, refusef(ReasonCondition, "Invalid Condition value for key %s", k.name)
			}
			c := tmpl
			c.key = strings.ToLower(k.name)
			c.values = make([]conditionValue, 0, len(vals))
			for _, v := range vals {
				cv, ok := c.parseValue(v, vars)
				if !ok {
					return nil, refusef(ReasonCondition, "Invalid Condition value %q for %s", v, b.name)
				}
				c.values = append(c.values, cv)
			}
			conds = append(conds, c)
		}
	}
	return conds, nil
}
