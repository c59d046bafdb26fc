package policy

import (
	"strings"
	"unicode/utf8"
)

// Wildcards are compiled to bytes that never occur in valid UTF-8, so that a literal "*" (from
// the ${*} escape or a variable's value) and a wildcard stay apart in one byte string.
const (
	anyRun byte = 0xFF // "*": any sequence of characters, including none
	anyOne byte = 0xFE // "?": exactly one character
)

// pattern is a compiled Resource, Action or condition value: text with wildcards compiled (for
// matching operators) and the policy variables to insert into it.
type pattern struct {
	text string
	vars []variable // nil when the value has no policy variable
}

// variable is one ${key} (or ${key, 'default'}) of a pattern, inserted at byte offset at of the
// pattern's text.
type variable struct {
	at     int
	key    string // lower-cased condition key
	def    string
	hasDef bool
}

// compilePattern compiles a value. wild turns * and ? into wildcards; vars (policy version
// 2012-10-17) substitutes ${...} variables and the ${*}, ${?}, ${$} escapes. ok is false for a
// malformed variable.
func compilePattern(v string, wild, vars bool) (pattern, bool) {
	var b strings.Builder
	var p pattern
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case wild && c == '*':
			b.WriteByte(anyRun)
		case wild && c == '?':
			b.WriteByte(anyOne)
		case vars && c == '$' && i+1 < len(v) && v[i+1] == '{':
			end := strings.IndexByte(v[i:], '}')
			if end < 0 {
				return pattern{}, false
			}
			inner := v[i+2 : i+end]
			i += end
			switch inner {
			case "*", "?", "$":
				b.WriteString(inner)
				continue
			}
			vr, ok := parseVariable(inner)
			if !ok {
				return pattern{}, false
			}
			vr.at = b.Len()
			p.vars = append(p.vars, vr)
		default:
			b.WriteByte(c)
		}
	}
	p.text = b.String()
	return p, true
}

// parseVariable parses "aws:username" or "aws:username, 'default'".
func parseVariable(s string) (variable, bool) {
	key, def, hasDef := strings.Cut(s, ",")
	key = strings.TrimSpace(key)
	if key == "" || strings.ContainsAny(key, " '${}") {
		return variable{}, false
	}
	v := variable{key: strings.ToLower(key)}
	if hasDef {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return variable{}, false
		}
		v.def, v.hasDef = def[1:len(def)-1], true
	}
	return v, true
}

// expand appends the pattern's text with its variables' values to dst. ok is false when a
// variable has no single value and no default: AWS then treats the element as not matching.
func (p *pattern) expand(dst []byte, ctx map[string][]string) ([]byte, bool) {
	last := 0
	for i := range p.vars {
		v := &p.vars[i]
		dst = append(dst, p.text[last:v.at]...)
		last = v.at
		vals := ctx[v.key]
		switch {
		case len(vals) == 1:
			dst = append(dst, vals[0]...)
		case len(vals) == 0 && v.hasDef:
			dst = append(dst, v.def...)
		default:
			return dst, false
		}
	}
	return append(dst, p.text[last:]...), true
}

// match matches s against the pattern, substituting variables from ctx. ok is false when a
// variable has no value.
func (p *pattern) match(s string, ctx map[string][]string, fold bool) (matched, ok bool) {
	if p.vars == nil {
		return wildMatch(p.text, s, fold), true
	}
	var buf [256]byte
	b, ok := p.expand(buf[:0], ctx)
	if !ok {
		return false, false
	}
	return wildMatch(b, s, fold), true
}

// equal compares s with the pattern's expanded text exactly (no wildcards).
func (p *pattern) equal(s string, ctx map[string][]string, fold bool) (equal, ok bool) {
	if p.vars == nil {
		if fold {
			return strings.EqualFold(p.text, s), true
		}
		return p.text == s, true
	}
	var buf [256]byte
	b, ok := p.expand(buf[:0], ctx)
	if !ok {
		return false, false
	}
	if fold {
		return strings.EqualFold(string(b), s), true
	}
	return string(b) == s, true
}

// matchARN matches an ARN as ArnLike does: each of the six colon-separated parts separately, so
// that a wildcard never spans a colon, except in the resource part, which may hold colons. A
// pattern that is not ARN-shaped is matched whole.
func (p *pattern) matchARN(s string, ctx map[string][]string) (matched, ok bool) {
	if p.vars == nil {
		return arnMatch(p.text, s), true
	}
	var buf [256]byte
	b, ok := p.expand(buf[:0], ctx)
	if !ok {
		return false, false
	}
	return arnMatch(b, s), true
}

func arnMatch[P string | []byte](p P, s string) bool {
	if countByte(p, ':') < 5 {
		return wildMatch(p, s, false)
	}
	for range 5 {
		pi, si := indexByte(p, ':'), strings.IndexByte(s, ':')
		if si < 0 || !wildMatch(p[:pi], s[:si], false) {
			return false
		}
		p, s = p[pi+1:], s[si+1:]
	}
	return wildMatch(p, s, false)
}

func countByte[P string | []byte](p P, c byte) int {
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] == c {
			n++
		}
	}
	return n
}

func indexByte[P string | []byte](p P, c byte) int {
	for i := 0; i < len(p); i++ {
		if p[i] == c {
			return i
		}
	}
	return -1
}

// wildMatch matches s against a compiled pattern: anyRun matches any run of characters, anyOne
// one character, other bytes themselves (ASCII case-folded when fold is set). It backtracks only
// to the last anyRun, so it runs in O(len(p)·len(s)) at worst and allocates nothing.
func wildMatch[P string | []byte](p P, s string, fold bool) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		if pi < len(p) {
			c := p[pi]
			switch {
			case c == anyRun:
				star, mark = pi, si
				pi++
				continue
			case c == anyOne:
				_, n := utf8.DecodeRuneInString(s[si:])
				si += n
				pi++
				continue
			case c == s[si] || fold && lowerASCII(c) == lowerASCII(s[si]):
				pi++
				si++
				continue
			}
		}
		if star < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[mark:])
		mark += n
		pi, si = star+1, mark
	}
	for pi < len(p) && p[pi] == anyRun {
		pi++
	}
	return pi == len(p)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
