package policy

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// operator is a condition operator without its negation, IfExists suffix and set qualifier.
type operator int

const (
	opStringEquals operator = iota
	opStringEqualsIgnoreCase
	opStringLike
	opNumericEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opArnLike // ArnEquals and ArnLike, which AWS evaluates alike
	opNull
)

// qualifier is a condition's set operator for multivalued keys.
type qualifier int

const (
	singleValued qualifier = iota
	forAllValues
	forAnyValue
)

// condition is one key of one operator block of a Condition element, compiled.
type condition struct {
	op       operator
	negated  bool // StringNotEquals, NotIpAddress, ...: true when no value matches
	ifExists bool // true when the key is missing
	set      qualifier
	key      string // lower-cased, as Request.Context holds keys
	values   []conditionValue
}

// conditionValue is one policy value, parsed for its operator at Parse time.
type conditionValue struct {
	str    pattern // string and ARN operators; binary value as raw bytes
	num    float64
	time   time.Time
	prefix netip.Prefix
	truth  bool // Bool and Null
}

// parseOperator splits "ForAnyValue:StringNotLikeIfExists" into its parts.
func parseOperator(name string) (c condition, ok bool) {
	rest := name
	if q, r, found := strings.Cut(rest, ":"); found {
		switch strings.ToLower(q) {
		case "forallvalues":
			c.set = forAllValues
		case "foranyvalue":
			c.set = forAnyValue
		default:
			return c, false
		}
		rest = r
	}
	lower := strings.ToLower(rest)
	if base, found := strings.CutSuffix(lower, "ifexists"); found {
		c.ifExists = true
		lower = base
	}
	switch lower {
	case "stringequals":
		c.op = opStringEquals
	case "stringnotequals":
		c.op, c.negated = opStringEquals, true
	case "stringequalsignorecase":
		c.op = opStringEqualsIgnoreCase
	case "stringnotequalsignorecase":
		c.op, c.negated = opStringEqualsIgnoreCase, true
	case "stringlike":
		c.op = opStringLike
	case "stringnotlike":
		c.op, c.negated = opStringLike, true
	case "numericequals":
		c.op = opNumericEquals
	case "numericnotequals":
		c.op, c.negated = opNumericEquals, true
	case "numericlessthan":
		c.op = opNumericLessThan
	case "numericlessthanequals":
		c.op = opNumericLessThanEquals
	case "numericgreaterthan":
		c.op = opNumericGreaterThan
	case "numericgreaterthanequals":
		c.op = opNumericGreaterThanEquals
	case "dateequals":
		c.op = opDateEquals
	case "datenotequals":
		c.op, c.negated = opDateEquals, true
	case "datelessthan":
		c.op = opDateLessThan
	case "datelessthanequals":
		c.op = opDateLessThanEquals
	case "dategreaterthan":
		c.op = opDateGreaterThan
	case "dategreaterthanequals":
		c.op = opDateGreaterThanEquals
	case "bool":
		c.op = opBool
	case "binaryequals":
		c.op = opBinaryEquals
	case "ipaddress":
		c.op = opIPAddress
	case "notipaddress":
		c.op, c.negated = opIPAddress, true
	case "arnequals", "arnlike":
		c.op = opArnLike
	case "arnnotequals", "arnnotlike":
		c.op, c.negated = opArnLike, true
	case "null":
		if c.ifExists || c.set != singleValued {
			return c, false
		}
		c.op = opNull
	default:
		return c, false
	}
	return c, true
}

// parseValue compiles one policy value for the condition's operator; vars is true for policy
// version 2012-10-17, where ${...} are variables.
func (c *condition) parseValue(v string, vars bool) (conditionValue, bool) {
	var cv conditionValue
	var ok bool
	switch c.op {
	case opStringEquals, opStringEqualsIgnoreCase:
		cv.str, ok = compilePattern(v, false, vars)
	case opStringLike, opArnLike:
		cv.str, ok = compilePattern(v, true, vars)
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		cv.num, ok = parseNumber(v)
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		cv.time, ok = parseDate(v)
	case opBool, opNull:
		cv.truth, ok = parseBool(v)
	case opBinaryEquals:
		var b []byte
		b, err := base64.StdEncoding.DecodeString(v)
		cv.str, ok = pattern{text: string(b)}, err == nil
	case opIPAddress:
		cv.prefix, ok = parsePrefix(v)
	}
	return cv, ok
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// dateLayouts are the ISO 8601 forms AWS accepts in Date conditions, besides epoch seconds.
var dateLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
	"20060102T150405Z",
}

// parseDate parses an ISO 8601 date or epoch seconds.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parsePrefix parses a CIDR block or a single address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}
