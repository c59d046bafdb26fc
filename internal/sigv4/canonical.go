package sigv4

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

const upperhex = "0123456789ABCDEF"

// unreserved reports the RFC 3986 unreserved characters, the only ones SigV4
// leaves unescaped.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// appendEscaped appends s escaped with the SigV4 rule: everything but the
// unreserved characters (and '/' when keepSlash) as %XX with upper-case hex.
func appendEscaped(dst []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperhex[c>>4], upperhex[c&15])
	}
	return dst
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unescape decodes %XX sequences; with plusSpace, '+' decodes to a space as in
// application/x-www-form-urlencoded queries. It reports false for a bad escape.
// Strings without escapes are returned without allocating.
func unescape(s string, plusSpace bool) (string, bool) {
	if !strings.ContainsRune(s, '%') && !(plusSpace && strings.ContainsRune(s, '+')) {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			if i+2 >= len(s) {
				return "", false
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b = append(b, hi<<4|lo)
			i += 2
		case c == '+' && plusSpace:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

// rawPath returns the request path exactly as the client sent it: the path
// part of the request-target when it is in origin form, else the URL's
// escaped path (requests built in-process, absolute-form targets).
func rawPath(r *http.Request) string {
	if u := r.RequestURI; strings.HasPrefix(u, "/") {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	return r.URL.EscapedPath()
}

// appendS3URI appends the canonical URI S3 uses: no normalisation, each
// segment decoded and re-escaped once with the SigV4 rule. SDKs escape keys
// differently on the wire ('!', '*', '+', '@' …) but all sign the SigV4
// escaping, which decoding and re-escaping recovers.
func appendS3URI(dst []byte, raw string) ([]byte, bool) {
	if raw == "" {
		return append(dst, '/'), true
	}
	for {
		i := strings.IndexByte(raw, '/')
		seg := raw
		if i >= 0 {
			seg = raw[:i]
		}
		dec, ok := unescape(seg, false)
		if !ok {
			return dst, false
		}
		dst = appendEscaped(dst, dec, false)
		if i < 0 {
			return dst, true
		}
		dst = append(dst, '/')
		raw = raw[i+1:]
	}
}

// appendNormalizedURI appends the canonical URI for services other than S3:
// the wire path with "." and ".." segments resolved and empty segments
// dropped, then escaped once more (the "double encoding" of the spec, since
// the wire path is already escaped once).
func appendNormalizedURI(dst []byte, raw string) []byte {
	if raw == "" || raw == "/" {
		return append(dst, '/')
	}
	var segs []string
	for seg := range strings.SplitSeq(raw, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, seg)
		}
	}
	dst = append(dst, '/')
	for i, seg := range segs {
		if i > 0 {
			dst = append(dst, '/')
		}
		dst = appendEscaped(dst, seg, false)
	}
	if len(segs) > 0 && (strings.HasSuffix(raw, "/") || strings.HasSuffix(raw, "/.") || strings.HasSuffix(raw, "/..")) {
		dst = append(dst, '/')
	}
	return dst
}

// queryParam is one decoded query parameter.
type queryParam struct{ key, value string }

// parseQuery decodes a raw query string into parameters in wire order.
func parseQuery(raw string) ([]queryParam, bool) {
	if raw == "" {
		return nil, true
	}
	params := make([]queryParam, 0, strings.Count(raw, "&")+1)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, ok1 := unescape(k, true)
		dv, ok2 := unescape(v, true)
		if !ok1 || !ok2 {
			return nil, false
		}
		params = append(params, queryParam{dk, dv})
	}
	return params, true
}

// appendCanonicalQuery appends the parameters, minus skip, re-escaped and
// sorted by escaped key then escaped value.
func appendCanonicalQuery(dst []byte, params []queryParam, skip string) []byte {
	enc := make([]queryParam, 0, len(params))
	var buf []byte
	for _, p := range params {
		if skip != "" && p.key == skip {
			continue
		}
		buf = appendEscaped(buf[:0], p.key, false)
		k := string(buf)
		buf = appendEscaped(buf[:0], p.value, false)
		enc = append(enc, queryParam{k, string(buf)})
	}
	slices.SortFunc(enc, func(a, b queryParam) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	for i, p := range enc {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.key...)
		dst = append(dst, '=')
		dst = append(dst, p.value...)
	}
	return dst
}

// headerValues returns the values of the (lower-case) header name as the
// client sent them. net/http moves Host to r.Host and Transfer-Encoding to
// r.TransferEncoding, and drops Content-Length when the body is chunked.
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		return []string{r.Host}
	case "content-length":
		if v, ok := r.Header["Content-Length"]; ok {
			return v
		}
		if r.ContentLength > 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
		return nil
	case "transfer-encoding":
		if v, ok := r.Header["Transfer-Encoding"]; ok {
			return v
		}
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}
		}
		return nil
	}
	if v, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
		return v
	}
	// Keys set directly in the map without canonicalisation.
	for k, v := range r.Header {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// appendHeaderValue appends v trimmed, with runs of spaces collapsed to one
// (as the SDK signers do; tabs inside a value are kept).
func appendHeaderValue(dst []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			space = true
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// appendCanonicalHeaders appends "name:value\n" for each signed header.
func appendCanonicalHeaders(dst []byte, r *http.Request, signed []string) []byte {
	for _, name := range signed {
		dst = append(dst, name...)
		dst = append(dst, ':')
		for i, v := range headerValues(r, name) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendHeaderValue(dst, v)
		}
		dst = append(dst, '\n')
	}
	return dst
}
