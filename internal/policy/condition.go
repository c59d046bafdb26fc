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

// parseOperator splits "ForAnyValue:StringNotLikeIfExists" into its parts. Operator names are
// case-sensitive, as S3 and IAM take them ("stringequals" is an invalid condition type).
func parseOperator(name string) (c condition, ok bool) {
	rest := name
	if q, r, found := strings.Cut(rest, ":"); found {
		switch q {
		case "ForAllValues":
			c.set = forAllValues
		case "ForAnyValue":
			c.set = forAnyValue
		default:
			return c, false
		}
		rest = r
	}
	if base, found := strings.CutSuffix(rest, "IfExists"); found {
		c.ifExists = true
		rest = base
	}
	switch rest {
	case "StringEquals":
		c.op = opStringEquals
	case "StringNotEquals":
		c.op, c.negated = opStringEquals, true
	case "StringEqualsIgnoreCase":
		c.op = opStringEqualsIgnoreCase
	case "StringNotEqualsIgnoreCase":
		c.op, c.negated = opStringEqualsIgnoreCase, true
	case "StringLike":
		c.op = opStringLike
	case "StringNotLike":
		c.op, c.negated = opStringLike, true
	case "NumericEquals":
		c.op = opNumericEquals
	case "NumericNotEquals":
		c.op, c.negated = opNumericEquals, true
	case "NumericLessThan":
		c.op = opNumericLessThan
	case "NumericLessThanEquals":
		c.op = opNumericLessThanEquals
	case "NumericGreaterThan":
		c.op = opNumericGreaterThan
	case "NumericGreaterThanEquals":
		c.op = opNumericGreaterThanEquals
	case "DateEquals":
		c.op = opDateEquals
	case "DateNotEquals":
		c.op, c.negated = opDateEquals, true
	case "DateLessThan":
		c.op = opDateLessThan
	case "DateLessThanEquals":
		c.op = opDateLessThanEquals
	case "DateGreaterThan":
		c.op = opDateGreaterThan
	case "DateGreaterThanEquals":
		c.op = opDateGreaterThanEquals
	case "Bool":
		c.op = opBool
	case "BinaryEquals":
		c.op = opBinaryEquals
	case "IpAddress":
		c.op = opIPAddress
	case "NotIpAddress":
		c.op, c.negated = opIPAddress, true
	case "ArnEquals", "ArnLike":
		c.op = opArnLike
	case "ArnNotEquals", "ArnNotLike":
		c.op, c.negated = opArnLike, true
	case "Null":
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

// parseNumber parses an integer or decimal number ("10", "-1.5", "1e3"); unlike
// strconv.ParseFloat it refuses "NaN", "Inf" and hexadecimal forms, which no AWS numeric key
// carries.
func parseNumber(s string) (float64, bool) {
	if s == "" || strings.Trim(s, "+-0123456789.eE") != "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
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

// parseDate parses epoch seconds or one of the W3C forms of ISO 8601 that AWS accepts in Date
// conditions (from "2006" to "2006-01-02T15:04:05.999Z07:00"), and the basic form
// "20060102T150405Z" of signed requests.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) != 4 {
		return time.Unix(n, 0), true
	}
	layouts := [...]string{
		time.RFC3339Nano,
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05",
		"2006-01-02T15:04",
		"2006-01-02",
		"2006-01",
		"2006",
		"20060102T150405Z",
	}
	for _, layout := range layouts {
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
