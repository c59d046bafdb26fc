package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// MaxSkew is how far a header-signed request's time may differ from the
// server's clock, and how far in the future a presigned URL may be dated.
const MaxSkew = 15 * time.Minute

// DefaultMaxBody is the cap on bodies buffered to hash them when MaxBody is 0.
const DefaultMaxBody = 1 << 20

// Verifier authenticates requests signed with AWS SigV4 (header or presigned),
// for any service. Set the exported fields before first use and do not change
// them afterwards; Verify is safe for concurrent use. A Verifier must not be
// copied after first use (it holds a signing-key cache).
type Verifier struct {
	// Region is the server's region; the credential scope's region must equal it.
	Region string
	// Service, if not empty, is the only credential scope service accepted
	// (e.g. "s3"). When empty any service is accepted and reported in
	// Auth.Service for the caller to check.
	Service string
	// Lookup finds the credential of an access key, given the session token the request
	// carried ("" for none): the request's one credential lookup. It fails with
	// ErrInvalidAccessKeyID for an unknown or inactive key, ErrInvalidToken or ErrExpiredToken
	// for a session token that is missing, wrong or expired, or any other error for a store
	// failure (which the wire layer reports as an internal error).
	Lookup func(ctx context.Context, accessKey, sessionToken string) (Credential, error)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxBody caps bodies that must be buffered to hash them (requests without
	// x-amz-content-sha256, e.g. the KMS JSON API); 0 means DefaultMaxBody.
	MaxBody int64

	keys keyCache
}

// Credential is what Lookup found for an access key.
type Credential struct {
	// Secret is the secret access key. Verify reads it only while it verifies the request and
	// keeps no reference to it, so the owner may hold it in a type that clears it.
	Secret []byte
	// Owner is the caller as the Lookup's provider knows it (a principal): Verify passes it
	// through, opaque, in Auth.Owner.
	Owner any
}

// Auth is what Verify established about a request.
type Auth struct {
	AccessKey string
	// Owner is Credential.Owner of the access key: who signed the request.
	Owner     any
	Service   string // credential scope service, e.g. "s3" or "kms"
	Region    string // credential scope region (equal to Verifier.Region)
	Presigned bool   // query-string (presigned URL) authentication
	// SigV2 marks a legacy Signature Version 2 presigned URL, whose signature covers the path
	// but not the host: a caller that takes the bucket from the host must refuse it.
	SigV2         bool
	Date          time.Time // the signing time
	Expires       time.Time // presigned only: end of validity
	ContentSHA256 string    // x-amz-content-sha256 value (or UNSIGNED-PAYLOAD for presigned); the computed hash for buffered bodies
	SignedHeaders []string
	// Body yields the decoded payload (aws-chunked framing removed) and
	// verifies it as it is read: payload hash, chunk signatures, trailer
	// signature and decoded length. A verification failure is returned by
	// Read in place of io.EOF (or earlier), so nothing read from Body may be
	// committed before Read returned io.EOF. Close closes the request body.
	Body io.ReadCloser
	// DecodedLength is the payload length when known, else -1.
	DecodedLength int64
	// Trailer holds the trailing headers (x-amz-checksum-*) of aws-chunked
	// bodies; it is filled once Body returned io.EOF. The caller validates
	// checksum values.
	Trailer http.Header
}

// PayloadSigned reports whether the signature covers the payload: ContentSHA256 is a hex
// SHA-256, not UNSIGNED-PAYLOAD or a streaming mode whose chunks are checked as they come.
func (a *Auth) PayloadSigned() bool {
	h := a.ContentSHA256
	if len(h) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Payload hash values of x-amz-content-sha256 other than a hex SHA-256.
const (
	UnsignedPayload                 = "UNSIGNED-PAYLOAD"
	StreamingPayload                = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// emptySHA256 is the hex SHA-256 of the empty string.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Verify checks the request's signature and returns the authenticated facts
// plus a body reader that decodes and verifies the payload as it is read. It
// reads the request body only when the signature covers a body that carries
// no x-amz-content-sha256 (then up to MaxBody bytes); otherwise the body is
// left to Auth.Body.
func (v *Verifier) Verify(r *http.Request) (*Auth, error) {
	authz, hasAuthz := r.Header["Authorization"]
	params, ok := parseQuery(r.URL.RawQuery)
	if !ok {
		switch {
		case hasAuthz:
			return nil, fmt.Errorf("%w: malformed query string", ErrAuthHeaderMalformed)
		case strings.Contains(r.URL.RawQuery, "X-Amz-"):
			return nil, fmt.Errorf("%w: malformed query string", ErrQueryMalformed)
		}
		return nil, ErrMissingAuth
	}
	presigned := false
	for _, p := range params {
		if p.key == "X-Amz-Algorithm" {
			presigned = true
			break
		}
	}
	switch {
	case hasAuthz && presigned:
		return nil, fmt.Errorf("%w: only one auth mechanism allowed", ErrAuthHeaderMalformed)
	case presigned:
		return v.verifyPresigned(r, params)
	case !hasAuthz && isPresignedV2(params):
		return v.verifyPresignedV2(r, params)
	case hasAuthz:
		if len(authz) != 1 {
			return nil, fmt.Errorf("%w: multiple Authorization headers", ErrAuthHeaderMalformed)
		}
		return v.verifyHeader(r, params, authz[0])
	}
	return nil, ErrMissingAuth
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxBody() int64 {
	if v.MaxBody > 0 {
		return v.MaxBody
	}
	return DefaultMaxBody
}

// checkScope checks the credential scope against the server's region and
// service, and the scope date against the signing time.
func (v *Verifier) checkScope(c *credential, t time.Time, class error) error {
	if c.region != v.Region {
		return &RegionError{Expected: v.Region, Got: c.region, class: class}
	}
	if v.Service != "" && c.service != v.Service {
		return fmt.Errorf("%w: credential scope service must be %q", class, v.Service)
	}
	if c.date != t.Format(scopeDateLayout) {
		return fmt.Errorf("%w: credential scope date does not match the request date", class)
	}
	return nil
}

func (v *Verifier) lookup(ctx context.Context, accessKey, sessionToken string) (Credential, error) {
	if v.Lookup == nil {
		return Credential{}, ErrInvalidAccessKeyID
	}
	c, err := v.Lookup(ctx, accessKey, sessionToken)
	if err != nil {
		return Credential{}, err
	}
	if len(c.Secret) == 0 {
		return Credential{}, ErrInvalidAccessKeyID
	}
	return c, nil
}

// SecurityTokenHeader and SecurityTokenQuery carry a temporary credential's session token:
// in a header-signed request and in a presigned URL (and, lower-cased, in a POST form).
const (
	SecurityTokenHeader = "X-Amz-Security-Token"
	SecurityTokenQuery  = "X-Amz-Security-Token"
)

// headerToken returns the session token of a header-signed request.
func headerToken(r *http.Request) string { return r.Header.Get(SecurityTokenHeader) }

// queryToken returns the session token of a presigned request.
func queryToken(params []queryParam, name string) string {
	for _, p := range params {
		if p.key == name {
			return p.value
		}
	}
	return ""
}

// requestDate returns the signing time from x-amz-date or, failing that, Date.
func requestDate(r *http.Request) (time.Time, error) {
	if vs, ok := r.Header["X-Amz-Date"]; ok {
		t, err := parseAmzDate(vs[0])
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: x-amz-date must be in ISO 8601 basic format", ErrMissingDate)
		}
		return t, nil
	}
	if d := r.Header.Get("Date"); d != "" {
		t, err := http.ParseTime(d)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: invalid Date header", ErrMissingDate)
		}
		return t.UTC(), nil
	}
	return time.Time{}, ErrMissingDate
}

// checkAmzHeadersSigned enforces that every x-amz-* header is signed.
func checkAmzHeadersSigned(r *http.Request, signed []string) error {
	for k := range r.Header {
		if len(k) < 6 || !strings.EqualFold(k[:6], "x-amz-") {
			continue
		}
		found := false
		for _, s := range signed {
			if strings.EqualFold(k, s) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%w: %.64s", ErrHeadersNotSigned, strings.ToLower(k))
		}
	}
	return nil
}

func (v *Verifier) verifyHeader(r *http.Request, params []queryParam, authz string) (*Auth, error) {
	if strings.HasPrefix(authz, "AWS ") {
		return nil, fmt.Errorf("%w: signature version 2", ErrUnsupportedSignature)
	}
	p, err := parseAuthorization(authz)
	if err != nil {
		return nil, err
	}
	t, err := requestDate(r)
	if err != nil {
		return nil, err
	}
	if err := v.checkScope(&p.cred, t, ErrAuthHeaderMalformed); err != nil {
		return nil, err
	}
	if d := v.now().Sub(t); d > MaxSkew || d < -MaxSkew {
		return nil, ErrTimeSkewed
	}
	cred, err := v.lookup(r.Context(), p.cred.accessKey, headerToken(r))
	if err != nil {
		return nil, err
	}
	if err := checkAmzHeadersSigned(r, p.signedHeaders); err != nil {
		return nil, err
	}
	sha, hasSHA := "", false
	if vs, ok := r.Header["X-Amz-Content-Sha256"]; ok {
		sha, hasSHA = vs[0], true
	} else if p.cred.service == "s3" {
		return nil, ErrMissingContentSHA256
	}
	a := &Auth{
		AccessKey:     p.cred.accessKey,
		Owner:         cred.Owner,
		Service:       p.cred.service,
		Region:        p.cred.region,
		Date:          t,
		SignedHeaders: p.signedHeaders,
		DecodedLength: r.ContentLength,
	}
	return v.finish(r, a, &p, params, "", sha, hasSHA, cred.Secret)
}

func (v *Verifier) verifyPresigned(r *http.Request, params []queryParam) (*Auth, error) {
	p, err := parsePresignQuery(params)
	if err != nil {
		return nil, err
	}
	if err := v.checkScope(&p.cred, p.date, ErrQueryMalformed); err != nil {
		return nil, err
	}
	now := v.now()
	if now.Before(p.date.Add(-MaxSkew)) {
		return nil, ErrRequestNotYetValid
	}
	if now.After(p.date.Add(p.expires)) {
		return nil, ErrRequestExpired
	}
	cred, err := v.lookup(r.Context(), p.cred.accessKey, queryToken(params, SecurityTokenQuery))
	if err != nil {
		return nil, err
	}
	if err := checkAmzHeadersSigned(r, p.signedHeaders); err != nil {
		return nil, err
	}
	sha, hasSHA := p.contentSHA256, p.contentSHA256 != ""
	if !hasSHA {
		if vs, ok := r.Header["X-Amz-Content-Sha256"]; ok {
			sha, hasSHA = vs[0], true
		} else {
			sha, hasSHA = UnsignedPayload, true
		}
	}
	a := &Auth{
		AccessKey:     p.cred.accessKey,
		Owner:         cred.Owner,
		Service:       p.cred.service,
		Region:        p.cred.region,
		Presigned:     true,
		Date:          p.date,
		Expires:       p.date.Add(p.expires),
		SignedHeaders: p.signedHeaders,
		DecodedLength: r.ContentLength,
	}
	return v.finish(r, a, &p.authParams, params, "X-Amz-Signature", sha, hasSHA, cred.Secret)
}

// finish determines the payload mode, computes and checks the signature and
// sets up Auth.Body.
func (v *Verifier) finish(r *http.Request, a *Auth, p *authParams, params []queryParam, skip, sha string, hasSHA bool, secret []byte) (*Auth, error) {
	var mode payloadMode
	var want [sha256.Size]byte
	var buffered []byte
	if hasSHA {
		var err error
		if mode, err = classifyPayload(sha, &want); err != nil {
			return nil, err
		}
	} else {
		var err error
		if buffered, err = readCapped(r, v.maxBody()); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(buffered)
		sha = hex.EncodeToString(sum[:])
		mode = modeBuffered
	}
	a.ContentSHA256 = sha

	raw := rawPath(r)
	buf := make([]byte, 0, 1024)
	var uri []byte
	if a.Service == "s3" {
		var ok bool
		if uri, ok = appendS3URI(buf, raw); !ok {
			return nil, fmt.Errorf("%w: malformed path escape", ErrSignatureDoesNotMatch)
		}
	} else {
		uri = appendNormalizedURI(buf, raw)
	}
	amzDate := a.Date.Format(amzDateLayout)
	scope := p.cred.scope()
	sg, signers := v.keys.signer(p.cred.accessKey, secret, p.cred.date, p.cred.region, p.cred.service)
	rawDiffers := a.Service == "s3" && string(uri) != raw
	buf = appendStringToSign(uri, r, p, params, skip, sha, amzDate, scope)
	match := hmac.Equal(sg.sign(buf), p.signature[:])
	if !match && rawDiffers {
		// Some S3 clients sign the path exactly as they sent it, with their
		// own choice of escaped characters: accept that form too.
		buf = appendStringToSign(append(buf[:0], raw...), r, p, params, skip, sha, amzDate, scope)
		match = hmac.Equal(sg.sign(buf), p.signature[:])
	}
	if !match {
		signers.Put(sg)
		return nil, ErrSignatureDoesNotMatch
	}
	err := setBody(r, a, mode, want, buffered, sg, amzDate, scope, p.signature)
	if !mode.streaming() {
		signers.Put(sg) // only a chunked body keeps the signer, to verify its chunks
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// readCapped reads the whole request body, refusing more than limit bytes.
func readCapped(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBodyTooLarge, r.ContentLength, limit)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: body ended early", ErrIncompleteBody)
		}
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: limit %d bytes", ErrBodyTooLarge, limit)
	}
	return b, nil
}

// appendStringToSign builds the canonical request around the canonical URI
// and returns the string to sign, reusing uri's storage.
func appendStringToSign(uri []byte, r *http.Request, p *authParams, params []queryParam, skip, sha, amzDate, scope string) []byte {
	buf := make([]byte, 0, 512+len(uri))
	buf = append(buf, r.Method...)
	buf = append(buf, '\n')
	buf = append(buf, uri...)
	buf = append(buf, '\n')
	buf = appendCanonicalQuery(buf, params, skip)
	buf = append(buf, '\n')
	buf = appendCanonicalHeaders(buf, r, p.signedHeaders)
	buf = append(buf, '\n')
	for i, h := range p.signedHeaders {
		if i > 0 {
			buf = append(buf, ';')
		}
		buf = append(buf, h...)
	}
	buf = append(buf, '\n')
	buf = append(buf, sha...)
	creqHash := sha256.Sum256(buf)

	sts := uri[:0]
	sts = append(sts, algorithm+"\n"...)
	sts = append(sts, amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, scope...)
	sts = append(sts, '\n')
	return hex.AppendEncode(sts, creqHash[:])
}
