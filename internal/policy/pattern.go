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
	// shape lets the common patterns skip the general matcher: most Actions are literal
	// ("s3:GetObject") or a prefix ("s3:Get*"), most Resources a prefix ("arn:aws:s3:::b/*").
	shape shape
	// wild is set when text holds compiled wildcards: a variable's value must then not carry
	// the wildcard bytes (see expand).
	wild bool
}

// shape is the form of a pattern without variables.
type shape uint8

const (
	shapeWild    shape = iota // anything: the general matcher
	shapeLiteral              // no wildcard
	shapePrefix               // one trailing anyRun and no other wildcard
)

// shapeOf classifies a compiled text.
func shapeOf(text string) shape {
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case anyRun:
			if i == len(text)-1 {
				return shapePrefix
			}
			return shapeWild
		case anyOne:
			return shapeWild
		}
	}
	return shapeLiteral
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
	p := pattern{wild: wild}
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
	if p.vars == nil && wild {
		p.shape = shapeOf(p.text)
	}
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
// A value is inserted literally; one holding the bytes that stand for wildcards (never valid
// UTF-8, so only a malformed request value) fails the match rather than become a wildcard.
func (p *pattern) expand(dst []byte, ctx map[string][]string) ([]byte, bool) {
	last := 0
	for i := range p.vars {
		v := &p.vars[i]
		dst = append(dst, p.text[last:v.at]...)
		last = v.at
		vals := ctx[v.key]
		switch {
		case len(vals) == 1 && p.wild && (strings.IndexByte(vals[0], anyRun) >= 0 || strings.IndexByte(vals[0], anyOne) >= 0):
			return dst, false
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
		return p.matchFixed(s, fold), true
	}
	var buf [256]byte
	b, ok := p.expand(buf[:0], ctx)
	if !ok {
		return false, false
	}
	return wildMatch(b, s, fold), true
}

// matchFixed matches a pattern without variables, taking the short way for literal and prefix
// shapes.
func (p *pattern) matchFixed(s string, fold bool) bool {
	switch p.shape {
	case shapeLiteral:
		return len(s) == len(p.text) && hasPrefix(s, p.text, fold)
	case shapePrefix:
		return hasPrefix(s, p.text[:len(p.text)-1], fold)
	}
	return wildMatch(p.text, s, fold)
}

// hasPrefix is strings.HasPrefix, ASCII case-folded when fold is set.
func hasPrefix(s, prefix string, fold bool) bool {
	if len(s) < len(prefix) {
		return false
	}
	if !fold {
		return s[:len(prefix)] == prefix
	}
	for i := 0; i < len(prefix); i++ {
		if lowerASCII(s[i]) != lowerASCII(prefix[i]) {
			return false
		}
	}
	return true
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
		return equalFoldBytes(b, s), true
	}
	return string(b) == s, true
}

// equalFoldBytes is strings.EqualFold for an expanded pattern, without copying it when both
// sides are ASCII.
func equalFoldBytes(b []byte, s string) bool {
	if len(b) != len(s) {
		return strings.EqualFold(string(b), s)
	}
	for i := range b {
		if b[i] >= utf8.RuneSelf || s[i] >= utf8.RuneSelf {
			return strings.EqualFold(string(b), s)
		}
		if lowerASCII(b[i]) != lowerASCII(s[i]) {
			return false
		}
	}
	return true
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
