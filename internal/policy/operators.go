package policy

import "net/netip"

// holds evaluates the condition against the request's context, as AWS documents it: several
// policy values are ORed; a negated operator holds when no value matches, so also when the key
// is missing; IfExists holds when the key is missing; ForAllValues holds when every request
// value matches (so also for no value), ForAnyValue when at least one does. A policy variable
// without a value makes the condition fail whatever the operator.
func (c *condition) holds(ctx map[string][]string) bool {
	vals := ctx[c.key]
	if c.op == opNull {
		for i := range c.values {
			if c.values[i].truth == (len(vals) == 0) {
				return true
			}
		}
		return false
	}
	if len(vals) == 0 {
		switch {
		case c.ifExists:
			return true
		case c.set == forAllValues:
			return true
		case c.set == forAnyValue:
			return false
		}
		return c.negated
	}
	switch c.set {
	case forAllValues:
		for _, v := range vals {
			m, ok := c.matchOne(v, ctx)
			if !ok || m == c.negated {
				return false
			}
		}
		return true
	case forAnyValue:
		for _, v := range vals {
			m, ok := c.matchOne(v, ctx)
			if !ok {
				return false
			}
			if m != c.negated {
				return true
			}
		}
		return false
	}
	for _, v := range vals {
		m, ok := c.matchOne(v, ctx)
		if !ok {
			return false
		}
		if m {
			return !c.negated
		}
	}
	return c.negated
}

// matchOne reports whether one request value matches any policy value under the operator
// without its negation. ok is false when a policy variable has no value.
func (c *condition) matchOne(v string, ctx map[string][]string) (matched, ok bool) {
	switch c.op {
	case opStringEquals, opStringEqualsIgnoreCase:
		fold := c.op == opStringEqualsIgnoreCase
		for i := range c.values {
			m, ok := c.values[i].str.equal(v, ctx, fold)
			if !ok || m {
				return m, ok
			}
		}
	case opStringLike:
		for i := range c.values {
			m, ok := c.values[i].str.match(v, ctx, false)
			if !ok || m {
				return m, ok
			}
		}
	case opArnLike:
		for i := range c.values {
			m, ok := c.values[i].str.matchARN(v, ctx)
			if !ok || m {
				return m, ok
			}
		}
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		n, ok := parseNumber(v)
		if !ok {
			return false, true
		}
		for i := range c.values {
			if compare(c.op-opNumericEquals, cmpFloat(n, c.values[i].num)) {
				return true, true
			}
		}
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		t, ok := parseDate(v)
		if !ok {
			return false, true
		}
		for i := range c.values {
			if compare(c.op-opDateEquals, t.Compare(c.values[i].time)) {
				return true, true
			}
		}
	case opBool:
		b, ok := parseBool(v)
		if !ok {
			return false, true
		}
		for i := range c.values {
			if c.values[i].truth == b {
				return true, true
			}
		}
	case opBinaryEquals:
		for i := range c.values {
			if c.values[i].str.text == v {
				return true, true
			}
		}
	case opIPAddress:
		a, ok := parseAddr(v)
		if !ok {
			return false, true
		}
		for i := range c.values {
			if c.values[i].prefix.Contains(a) {
				return true, true
			}
		}
	}
	return false, true
}

// compare applies the n-th comparison (equals, less than, less than or equals, greater than,
// greater than or equals; the order of the Numeric and Date operators) to a three-way result.
func compare(n operator, cmp int) bool {
	switch n {
	case 0:
		return cmp == 0
	case 1:
		return cmp < 0
	case 2:
		return cmp <= 0
	case 3:
		return cmp > 0
	}
	return cmp >= 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseAddr parses a request's address; an IPv4-mapped IPv6 address is its IPv4 address.
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
