package sigv4

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxPostPolicy caps the decoded POST policy document. S3 caps the whole form before the file
// at 20 KB, and the policy is part of it.
const MaxPostPolicy = 20 << 10

// PostPolicy is a parsed POST policy document: when it expires and what the form of a
// browser upload must satisfy.
type PostPolicy struct {
	Expiration time.Time
	Conditions []PostCondition
	// HasLengthRange reports a content-length-range condition; MinLength and MaxLength are
	// then the bounds (inclusive) on the size of the uploaded file.
	HasLengthRange       bool
	MinLength, MaxLength int64
}

// PostCondition is one exact-match or starts-with condition on a form field.
type PostCondition struct {
	StartsWith bool
	Field      string // lower-case form field name, without the "$"
	Value      string
}

// String renders the condition as S3 quotes it in its error messages.
func (c PostCondition) String() string {
	op := "eq"
	if c.StartsWith {
		op = "starts-with"
	}
	return fmt.Sprintf("[%q, %q, %q]", op, "$"+c.Field, c.Value)
}

// DecodePostPolicy decodes the base64 policy form field and parses it.
func DecodePostPolicy(b64 string) (*PostPolicy, error) {
	if base64.StdEncoding.DecodedLen(len(b64)) > MaxPostPolicy {
		return nil, policyErr(ErrPolicyMalformed, "Policy is too large.")
	}
	doc, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, policyErr(ErrPolicyMalformed, "Policy is not valid base64.")
	}
	return ParsePostPolicy(doc)
}

// ParsePostPolicy parses a POST policy document: a JSON object with an ISO 8601 UTC
// "expiration" and a "conditions" array of {"field": "value"} maps and ["eq" | "starts-with",
// "$field", "value"] or ["content-length-range", min, max] lists.
func ParsePostPolicy(doc []byte) (*PostPolicy, error) {
	if len(doc) > MaxPostPolicy {
		return nil, policyErr(ErrPolicyMalformed, "Policy is too large.")
	}
	var raw struct {
		Expiration *string            `json:"expiration"`
		Conditions *[]json.RawMessage `json:"conditions"`
	}
	dec := json.NewDecoder(bytes.NewReader(unescapePolicy(doc)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, policyErr(ErrPolicyMalformed, "Invalid JSON.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, policyErr(ErrPolicyMalformed, "Invalid JSON.")
	}
	if raw.Expiration == nil {
		return nil, policyErr(ErrPolicyMalformed, "Policy missing expiration.")
	}
	if raw.Conditions == nil {
		return nil, policyErr(ErrPolicyMalformed, "Policy missing conditions.")
	}
	p := &PostPolicy{}
	exp, err := time.Parse(time.RFC3339Nano, *raw.Expiration)
	if err != nil || !strings.HasSuffix(*raw.Expiration, "Z") {
		return nil, policyErr(ErrPolicyMalformed, fmt.Sprintf("Invalid 'expiration' value: %.64q", *raw.Expiration))
	}
	p.Expiration = exp
	for _, c := range *raw.Conditions {
		if err := p.addCondition(c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *PostPolicy) addCondition(c json.RawMessage) error {
	invalid := policyErr(ErrPolicyMalformed, fmt.Sprintf("Invalid Condition: %.128s", c))
	var m map[string]json.RawMessage
	if json.Unmarshal(c, &m) == nil {
		if len(m) != 1 {
			return invalid
		}
		for k, v := range m {
			val, ok := scalar(v)
			if !ok || k == "" {
				return invalid
			}
			p.Conditions = append(p.Conditions, PostCondition{Field: strings.ToLower(k), Value: val})
		}
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(c, &list) != nil || len(list) != 3 {
		return invalid
	}
	op, ok := scalar(list[0])
	if !ok {
		return invalid
	}
	switch strings.ToLower(op) {
	case "eq", "starts-with":
		field, ok1 := scalar(list[1])
		val, ok2 := scalar(list[2])
		name, dollar := strings.CutPrefix(field, "$")
		if !ok1 || !ok2 || !dollar || name == "" {
			return invalid
		}
		p.Conditions = append(p.Conditions, PostCondition{StartsWith: strings.EqualFold(op, "starts-with"), Field: strings.ToLower(name), Value: val})
	case "content-length-range":
		los, ok1 := scalar(list[1])
		his, ok2 := scalar(list[2])
		lo, err1 := strconv.ParseInt(los, 10, 64)
		hi, err2 := strconv.ParseInt(his, 10, 64)
		if !ok1 || !ok2 || err1 != nil || err2 != nil || lo < 0 || hi < lo {
			return invalid
		}
		if p.HasLengthRange { // several ranges: the upload must satisfy all of them
			lo, hi = max(lo, p.MinLength), min(hi, p.MaxLength)
		}
		p.HasLengthRange, p.MinLength, p.MaxLength = true, lo, hi
	default:
		return invalid
	}
	return nil
}

// scalar reads a JSON string or number as text.
func scalar(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "", false
}

// unescapePolicy rewrites the two escapes S3's policy documents allow beyond JSON's, \$ and
// \v, into JSON. Every backslash starts an escape pair, so one left-to-right pass is exact.
func unescapePolicy(doc []byte) []byte {
	if !bytes.Contains(doc, []byte(`\$`)) && !bytes.Contains(doc, []byte(`\v`)) {
		return doc
	}
	out := make([]byte, 0, len(doc)+8)
	for i := 0; i < len(doc); i++ {
		if doc[i] != '\\' || i+1 == len(doc) {
			out = append(out, doc[i])
			continue
		}
		i++
		switch doc[i] {
		case '$':
			out = append(out, '$')
		case 'v':
			out = append(out, `\u000b`...)
		default:
			out = append(out, '\\', doc[i])
		}
	}
	return out
}

// postExempt reports the form fields that need no policy condition: the signature, the
// policy itself, the file and x-ignore-* fields.
func postExempt(field string) bool {
	switch field {
	case "policy", "x-amz-signature", "signature", "awsaccesskeyid", "file":
		return true
	}
	return strings.HasPrefix(field, "x-ignore-")
}

// Check evaluates the policy at time now against a form: fields maps lower-case field names to
// their values (the key with ${filename} already expanded) and bucket is the bucket the form
// was posted to. It checks expiry, every condition, and that every field but the exempt ones
// is named by a condition. The content-length range is the caller's to enforce on the file.
func (p *PostPolicy) Check(now time.Time, bucket string, fields map[string]string) error {
	if !now.Before(p.Expiration) {
		return policyErr(ErrPolicyExpired, "")
	}
	covered := map[string]bool{}
	for _, c := range p.Conditions {
		covered[c.Field] = true
		v := fields[c.Field]
		if c.Field == "bucket" {
			v = bucket
		}
		if !c.matches(v) {
			return policyErr(ErrPolicyCondition, c.String())
		}
	}
	var extra []string
	for f := range fields {
		if !covered[f] && !postExempt(f) {
			extra = append(extra, f)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return policyErr(ErrPolicyExtraField, strings.Join(extra, ", "))
	}
	return nil
}

// matches applies the condition to a field's value; values compare case-sensitively. A
// Content-Type with commas is a list whose every entry must start with the prefix.
func (c PostCondition) matches(v string) bool {
	if !c.StartsWith {
		return v == c.Value
	}
	if c.Field == "content-type" && strings.Contains(v, ",") {
		for part := range strings.SplitSeq(v, ",") {
			if !strings.HasPrefix(strings.TrimSpace(part), c.Value) {
				return false
			}
		}
		return true
	}
	return strings.HasPrefix(v, c.Value)
}
