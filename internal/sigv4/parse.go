package sigv4

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	amzDateLayout   = "20060102T150405Z"
	scopeDateLayout = "20060102"
	scopeTerminator = "aws4_request"
	// MaxPresignExpiry is the longest X-Amz-Expires AWS accepts (7 days).
	MaxPresignExpiry = 604800
	// maxSignedHeaders bounds the SignedHeaders list (the duplicate check is
	// quadratic).
	maxSignedHeaders = 128
)

// credential is the parsed Credential= value: AK/yyyymmdd/region/service/aws4_request.
type credential struct {
	accessKey, date, region, service string
}

// scope returns "yyyymmdd/region/service/aws4_request".
func (c *credential) scope() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + scopeTerminator
}

// authParams are the signature parameters common to both auth styles.
type authParams struct {
	cred          credential
	signedHeaders []string
	signature     [32]byte
}

func parseCredential(s string, class error) (credential, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 {
		return credential{}, fmt.Errorf("%w: credential must have the form <key>/<date>/<region>/<service>/aws4_request", class)
	}
	for _, p := range parts {
		if p == "" {
			return credential{}, fmt.Errorf("%w: empty credential component", class)
		}
	}
	if parts[4] != scopeTerminator {
		return credential{}, fmt.Errorf("%w: credential scope must end in aws4_request", class)
	}
	if _, err := time.Parse(scopeDateLayout, parts[1]); err != nil || len(parts[1]) != 8 {
		return credential{}, fmt.Errorf("%w: invalid credential date", class)
	}
	return credential{accessKey: parts[0], date: parts[1], region: parts[2], service: parts[3]}, nil
}

func parseSignedHeaders(s string, class error) ([]string, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty SignedHeaders", class)
	}
	if strings.Count(s, ";") >= maxSignedHeaders {
		return nil, fmt.Errorf("%w: too many SignedHeaders", class)
	}
	names := strings.Split(s, ";")
	host := false
	for i, n := range names {
		if n == "" {
			return nil, fmt.Errorf("%w: empty name in SignedHeaders", class)
		}
		for j := 0; j < len(n); j++ {
			if c := n[j]; c <= ' ' || c >= 0x7f || 'A' <= c && c <= 'Z' || c == ':' {
				return nil, fmt.Errorf("%w: SignedHeaders names must be lower-case tokens", class)
			}
		}
		if slices.Contains(names[:i], n) {
			return nil, fmt.Errorf("%w: duplicate name in SignedHeaders", class)
		}
		if n == "host" {
			host = true
		}
	}
	if !host {
		return nil, fmt.Errorf("%w: host must be a signed header", class)
	}
	return names, nil
}

func parseSignature(s string, class error) (sig [32]byte, err error) {
	if len(s) != 64 {
		return sig, fmt.Errorf("%w: signature must be 64 hex digits", class)
	}
	if _, err := hex.Decode(sig[:], []byte(s)); err != nil {
		return sig, fmt.Errorf("%w: signature must be 64 hex digits", class)
	}
	return sig, nil
}

// parseAuthorization parses a SigV4 Authorization header value.
func parseAuthorization(h string) (authParams, error) {
	var p authParams
	alg, rest, _ := strings.Cut(strings.TrimLeft(h, " "), " ")
	if alg != algorithm {
		return p, fmt.Errorf("%w: %.32q", ErrUnsupportedSignature, alg)
	}
	var cred, signed, sig string
	var seen [3]bool
	for field := range strings.SplitSeq(rest, ",") {
		field = strings.Trim(field, " ")
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return p, fmt.Errorf("%w: component without '='", ErrAuthHeaderMalformed)
		}
		var idx int
		switch k {
		case "Credential":
			idx, cred = 0, v
		case "SignedHeaders":
			idx, signed = 1, v
		case "Signature":
			idx, sig = 2, v
		default:
			return p, fmt.Errorf("%w: unknown component %.32q", ErrAuthHeaderMalformed, k)
		}
		if seen[idx] {
			return p, fmt.Errorf("%w: duplicate component %s", ErrAuthHeaderMalformed, k)
		}
		seen[idx] = true
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return p, fmt.Errorf("%w: Credential, SignedHeaders and Signature are required", ErrAuthHeaderMalformed)
	}
	var err error
	if p.cred, err = parseCredential(cred, ErrAuthHeaderMalformed); err != nil {
		return p, err
	}
	if p.signedHeaders, err = parseSignedHeaders(signed, ErrAuthHeaderMalformed); err != nil {
		return p, err
	}
	if p.signature, err = parseSignature(sig, ErrAuthHeaderMalformed); err != nil {
		return p, err
	}
	return p, nil
}

// presignParams are the parsed X-Amz-* query parameters of a presigned URL.
type presignParams struct {
	authParams
	date          time.Time
	expires       time.Duration
	contentSHA256 string // X-Amz-Content-Sha256, if given
}

// parsePresignQuery extracts and validates the presigned-URL parameters.
func parsePresignQuery(params []queryParam) (presignParams, error) {
	var p presignParams
	const (
		qAlg = iota
		qCred
		qDate
		qExpires
		qSigned
		qSig
		qSHA
		nq
	)
	names := [nq]string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Content-Sha256"}
	var vals [nq]string
	var seen [nq]bool
	for _, qp := range params {
		for i, n := range names {
			if qp.key == n {
				if seen[i] {
					return p, fmt.Errorf("%w: duplicate %s", ErrQueryMalformed, n)
				}
				seen[i], vals[i] = true, qp.value
			}
		}
	}
	if !seen[qAlg] {
		return p, fmt.Errorf("%w: missing X-Amz-Algorithm", ErrQueryMalformed)
	}
	if vals[qAlg] != algorithm {
		return p, fmt.Errorf("%w: %.32q", ErrUnsupportedSignature, vals[qAlg])
	}
	for i := qCred; i <= qSig; i++ {
		if !seen[i] {
			return p, fmt.Errorf("%w: missing %s", ErrQueryMalformed, names[i])
		}
	}
	var err error
	if p.cred, err = parseCredential(vals[qCred], ErrQueryMalformed); err != nil {
		return p, err
	}
	if p.signedHeaders, err = parseSignedHeaders(vals[qSigned], ErrQueryMalformed); err != nil {
		return p, err
	}
	if p.signature, err = parseSignature(vals[qSig], ErrQueryMalformed); err != nil {
		return p, err
	}
	if p.date, err = parseAmzDate(vals[qDate]); err != nil {
		return p, fmt.Errorf("%w: X-Amz-Date must be in ISO 8601 basic format", ErrQueryMalformed)
	}
	n, err := strconv.ParseInt(vals[qExpires], 10, 64)
	if err != nil || n < 1 || n > MaxPresignExpiry || vals[qExpires][0] == '+' {
		return p, fmt.Errorf("%w: X-Amz-Expires must be between 1 and %d seconds", ErrQueryMalformed, MaxPresignExpiry)
	}
	p.expires = time.Duration(n) * time.Second
	if seen[qSHA] {
		p.contentSHA256 = vals[qSHA]
	}
	return p, nil
}

// parseAmzDate parses an ISO 8601 basic UTC timestamp (20060102T150405Z).
func parseAmzDate(s string) (time.Time, error) {
	if len(s) != len(amzDateLayout) {
		return time.Time{}, fmt.Errorf("bad length")
	}
	return time.Parse(amzDateLayout, s)
}
