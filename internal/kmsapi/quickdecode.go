package kmsapi

import (
	"encoding/base64"
	"unicode/utf8"

	"github.com/coffer/coffer/internal/kms"
)

// The bodies of GenerateDataKey and Decrypt, the most frequent calls, are read by quickDecode
// when they have the common shape, and by encoding/json otherwise. quickDecode accepts only a
// subset of JSON on which it cannot differ from json.Unmarshal: each member of the operation
// named exactly once, in its exact case; strings without escapes, in valid UTF-8; numbers
// without sign, fraction or exponent; no null. On anything else it declines, and decode's
// json.Unmarshal gives the answer (and the error) it always gave. quickdecode_test.go holds
// the two to the same results.

// quickMember names the members quickDecode knows; an operation allows some of them.
type quickMember uint8

const (
	qKeyID quickMember = 1 << iota
	qKeySpec
	qNumberOfBytes
	qCiphertextBlob
	qEncryptionAlgorithm
	qEncryptionContext
	qGrantTokens
	qDryRun
)

var quickNames = map[string]quickMember{
	"KeyId": qKeyID, "KeySpec": qKeySpec, "NumberOfBytes": qNumberOfBytes, "CiphertextBlob": qCiphertextBlob,
	"EncryptionAlgorithm": qEncryptionAlgorithm, "EncryptionContext": qEncryptionContext, "GrantTokens": qGrantTokens, "DryRun": qDryRun,
}

const (
	generateDataKeyMembers = qKeyID | qKeySpec | qNumberOfBytes | qEncryptionContext | qGrantTokens | qDryRun
	decryptMembers         = qCiphertextBlob | qEncryptionContext | qKeyID | qEncryptionAlgorithm | qGrantTokens | qDryRun
)

// quickInput holds the members of a GenerateDataKey or Decrypt request.
type quickInput struct {
	KeyId, KeySpec, EncryptionAlgorithm string
	NumberOfBytes                       int
	CiphertextBlob                      []byte
	EncryptionContext                   map[string]string
	GrantTokens                         []string
	DryRun                              bool
}

func (q *quickInput) generateDataKey() kms.GenerateDataKeyInput {
	return kms.GenerateDataKeyInput{KeyId: q.KeyId, KeySpec: q.KeySpec, NumberOfBytes: q.NumberOfBytes,
		EncryptionContext: q.EncryptionContext, GrantTokens: q.GrantTokens, DryRun: q.DryRun}
}

func (q *quickInput) decrypt() kms.DecryptInput {
	return kms.DecryptInput{CiphertextBlob: q.CiphertextBlob, EncryptionContext: q.EncryptionContext, KeyId: q.KeyId,
		EncryptionAlgorithm: q.EncryptionAlgorithm, GrantTokens: q.GrantTokens, DryRun: q.DryRun}
}

// quickDecode reads body into in, allowing the members in allowed, and reports whether it
// could; when it could not, in is to be discarded.
func quickDecode(body []byte, allowed quickMember, in *quickInput) bool {
	d := quickDecoder{b: body}
	if !d.byte('{') {
		return false
	}
	var seen quickMember
	if d.byte('}') {
		return d.end()
	}
	for {
		name, ok := d.str()
		if !ok || !d.byte(':') {
			return false
		}
		m := quickNames[string(name)]
		if m == 0 || m&allowed == 0 || m&seen != 0 {
			return false
		}
		seen |= m
		switch m {
		case qKeyID:
			ok = d.stringTo(&in.KeyId)
		case qKeySpec:
			ok = d.stringTo(&in.KeySpec)
		case qEncryptionAlgorithm:
			ok = d.stringTo(&in.EncryptionAlgorithm)
		case qNumberOfBytes:
			in.NumberOfBytes, ok = d.number()
		case qCiphertextBlob:
			var s []byte
			if s, ok = d.str(); ok {
				in.CiphertextBlob = make([]byte, base64.StdEncoding.DecodedLen(len(s)))
				n, err := base64.StdEncoding.Decode(in.CiphertextBlob, s)
				in.CiphertextBlob, ok = in.CiphertextBlob[:n], err == nil
			}
		case qEncryptionContext:
			in.EncryptionContext, ok = d.stringMap()
		case qGrantTokens:
			in.GrantTokens, ok = d.stringList()
		case qDryRun:
			in.DryRun, ok = d.boolean()
		}
		if !ok {
			return false
		}
		if d.byte('}') {
			return d.end()
		}
		if !d.byte(',') {
			return false
		}
	}
}

type quickDecoder struct {
	b []byte
	i int
}

func (d *quickDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// byte consumes c, after white space, if it is next.
func (d *quickDecoder) byte(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (d *quickDecoder) end() bool {
	d.space()
	return d.i == len(d.b)
}

// str reads a string without escapes in valid UTF-8, returning its bytes in the body.
func (d *quickDecoder) str() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	ascii := true
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			return s, ascii || utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

func (d *quickDecoder) stringTo(dst *string) bool {
	s, ok := d.str()
	*dst = string(s)
	return ok
}

// number reads a non-negative integer of at most 9 digits, without a leading zero.
func (d *quickDecoder) number() (int, bool) {
	d.space()
	start, n := d.i, 0
	for ; d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9'; d.i++ {
		n = n*10 + int(d.b[d.i]-'0')
	}
	digits := d.i - start
	if digits == 0 || digits > 9 || digits > 1 && d.b[start] == '0' {
		return 0, false
	}
	if d.i < len(d.b) { // a fraction or an exponent follows: json.Unmarshal's to judge
		switch d.b[d.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	return n, true
}

func (d *quickDecoder) boolean() (bool, bool) {
	d.space()
	rest := d.b[d.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		d.i += 4
		return true, true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		d.i += 5
		return false, true
	}
	return false, false
}

func (d *quickDecoder) stringMap() (map[string]string, bool) {
	if !d.byte('{') {
		return nil, false
	}
	m := make(map[string]string)
	if d.byte('}') {
		return m, true
	}
	for {
		k, ok := d.str()
		if !ok || !d.byte(':') {
			return nil, false
		}
		v, ok := d.str()
		if !ok {
			return nil, false
		}
		if _, dup := m[string(k)]; dup { // json.Unmarshal keeps the last: left to it
			return nil, false
		}
		m[string(k)] = string(v)
		if d.byte('}') {
			return m, true
		}
		if !d.byte(',') {
			return nil, false
		}
	}
}

func (d *quickDecoder) stringList() ([]string, bool) {
	if !d.byte('[') {
		return nil, false
	}
	l := []string{}
	if d.byte(']') {
		return l, true
	}
	for {
		s, ok := d.str()
		if !ok {
			return nil, false
		}
		l = append(l, string(s))
		if d.byte(']') {
			return l, true
		}
		if !d.byte(',') {
			return nil, false
		}
	}
}
