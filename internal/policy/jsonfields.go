package policy

import (
	"bytes"
	"encoding/json"
)

// field is one member of a JSON object, in document order.
type field struct {
	name  string
	value json.RawMessage
}

// objectFields returns the members of a JSON object. ok is false when raw is not one object;
// dup names a member named twice, which is refused too: a duplicate key would leave it unclear
// which value applies.
func objectFields(raw []byte) (fields []field, dup string, ok bool) {
	if firstByte(raw) != '{' {
		return nil, "", false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, "", false
		}
		name, isString := tok.(string)
		if !isString {
			return nil, "", false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, "", false
		}
		if seen[name] && dup == "" {
			dup = name
		}
		seen[name] = true
		fields = append(fields, field{name, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, "", false
	}
	if _, err := dec.Token(); err == nil || dec.More() {
		return nil, "", false // trailing data after the object
	}
	return fields, dup, true
}

// members is objectFields for an element that must be an object: a duplicate member is refused
// as such, anything else that is not an object with notObject.
func members(raw []byte, notObject *Error) ([]field, *Error) {
	fields, dup, ok := objectFields(raw)
	switch {
	case !ok:
		return nil, notObject
	case dup != "":
		return nil, refuse(ReasonSyntax, "Duplicate field "+dup)
	}
	return fields, nil
}

// firstByte is the first non-space byte of a JSON text, 0 for none.
func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// jsonString decodes a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	if firstByte(raw) != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// stringList decodes a string or a non-empty list of strings.
func stringList(raw json.RawMessage) ([]string, bool) {
	if s, ok := jsonString(raw); ok {
		return []string{s}, true
	}
	if firstByte(raw) != '[' {
		return nil, false
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
		return nil, false
	}
	return list, true
}

// conditionValues decodes a condition's value or non-empty list of values: strings, numbers
// and booleans, each as its text.
func conditionValues(raw json.RawMessage) ([]string, bool) {
	if v, ok := scalarText(raw); ok {
		return []string{v}, true
	}
	if firstByte(raw) != '[' {
		return nil, false
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		v, ok := scalarText(item)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// scalarText is a JSON string's value, or a number's or boolean's text.
func scalarText(raw json.RawMessage) (string, bool) {
	switch c := firstByte(raw); {
	case c == '"':
		return jsonString(raw)
	case c == 't' || c == 'f' || c == '-' || ('0' <= c && c <= '9'):
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", false
		}
		switch v.(type) {
		case bool, float64:
			return string(bytes.TrimSpace(raw)), true
		}
	}
	return "", false
}

func alphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
