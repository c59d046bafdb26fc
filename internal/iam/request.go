package iam

import (
	"context"
	"net/netip"
	"strconv"
	"time"
)

// Principal types, as the aws:PrincipalType condition key names them.
const (
	PrincipalAccount     = "Account"     // an account's root user
	PrincipalUser        = "User"        // an IAM user
	PrincipalAssumedRole = "AssumedRole" // a role session from STS AssumeRole
	PrincipalAnonymous   = "Anonymous"   // an unsigned request
)

// Auth types and signature versions, as the s3:authType and s3:signatureversion condition
// keys name them.
const (
	AuthHeader      = "REST-HEADER"       // Authorization header
	AuthQueryString = "REST-QUERY-STRING" // presigned URL
	AuthPOST        = "POST"              // browser form upload (POST Object)
	SigV4           = "AWS4-HMAC-SHA256"
	SigV2           = "AWS"
)

// Request is who makes one request and how: the one request-identity value the wire layer
// builds once, after authentication, from which authorization is decided and which the audit
// trail records. It carries no secret: no key, signature or session token.
type Request struct {
	Principal Principal
	// SourceIP is the client's address (aws:SourceIp).
	SourceIP netip.Addr
	// SecureTransport is true when the request came over TLS (aws:SecureTransport).
	SecureTransport bool
	// AuthType is AuthHeader, AuthQueryString or AuthPOST; "" for an anonymous request.
	AuthType string
	// SignatureVersion is SigV4 or SigV2; "" for an anonymous request.
	SignatureVersion string
	// SignatureAge is the time since the request was signed (s3:signatureAge).
	SignatureAge time.Duration
	// ContentSHA256 is the x-amz-content-sha256 value (s3:x-amz-content-sha256).
	ContentSHA256 string
	RequestID     string
	UserAgent     string
	Time          time.Time // when the request arrived
	Region        string    // the region the server serves (aws:RequestedRegion)
}

// NewRequest returns the identity of a request made by p (Type PrincipalAnonymous for an
// unsigned request) and arriving now from remoteAddr (net/http's "host:port"), over TLS when
// secure; Signed records how a signed one was signed. (It takes the HTTP request's fields, not
// the request, so that the services reading iam stay free of net/http.)
func NewRequest(p Principal, remoteAddr string, secure bool, userAgent, requestID, region string) *Request {
	return &Request{
		Principal:       p,
		SourceIP:        ClientIP(remoteAddr),
		SecureTransport: secure,
		RequestID:       requestID,
		UserAgent:       userAgent,
		Time:            time.Now(),
		Region:          region,
	}
}

// Signed records how the request was signed: the auth type (AuthHeader, AuthQueryString,
// AuthPOST), the signature version (SigV4, SigV2), the signing time and the payload hash.
func (r *Request) Signed(authType, version string, at time.Time, contentSHA256 string) *Request {
	r.AuthType, r.SignatureVersion = authType, version
	r.SignatureAge = r.Time.Sub(at)
	r.ContentSHA256 = contentSHA256
	return r
}

type requestKey struct{}

// WithRequest returns ctx carrying the request identity r.
func WithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request identity ctx carries, or nil.
func RequestFrom(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// ClientIP returns the address part of a net/http RemoteAddr ("host:port"), or the zero Addr.
func ClientIP(remoteAddr string) netip.Addr {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		a, _ := netip.ParseAddr(remoteAddr)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

// GlobalConditions returns the values of the global condition keys (aws:...) this request
// gives, keyed by the lower-cased key name as policy evaluation looks them up. Keys a request
// does not give (aws:username for a role session, the principal keys of an anonymous request)
// are absent.
func (r *Request) GlobalConditions() map[string][]string {
	m := make(map[string][]string, 16)
	r.PutGlobalConditions(m)
	return m
}

// PutGlobalConditions puts the global condition keys of GlobalConditions into m, for a
// caller that reuses its maps.
func (r *Request) PutGlobalConditions(m map[string][]string) {
	// Every request builds these, so their one-value lists share one array.
	vals := make([]string, 0, 14)
	one := func(v string) []string {
		vals = append(vals, v)
		return vals[len(vals)-1 : len(vals) : len(vals)]
	}
	m["aws:securetransport"] = one(boolString(r.SecureTransport))
	m["aws:currenttime"] = one(r.Time.UTC().Format(time.RFC3339))
	m["aws:epochtime"] = one(strconv.FormatInt(r.Time.Unix(), 10))
	m["aws:multifactorauthpresent"] = one("false")
	m["aws:principaltype"] = one(r.Principal.Type)
	m["aws:requestedregion"] = one(r.Region)
	m["aws:viaawsservice"] = one("false")
	m["aws:principalisawsservice"] = one("false")
	if r.SourceIP.IsValid() {
		m["aws:sourceip"] = one(r.SourceIP.String())
	}
	p := r.Principal
	if p.Type == PrincipalAnonymous || p.Type == "" {
		return
	}
	m["aws:principalarn"] = one(p.ARN)
	if p.RoleARN != "" {
		m["aws:principalarn"] = one(p.RoleARN)
	}
	m["aws:principalaccount"] = one(p.AccountID)
	if p.UserID != "" {
		m["aws:userid"] = one(p.UserID)
	}
	if p.UserName != "" {
		m["aws:username"] = one(p.UserName)
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
