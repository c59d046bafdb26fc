package sigv4

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Legacy Signature Version 2 presigned URLs (AWSAccessKeyId, Expires, Signature in the query).
// S3 alone ever took them, and the aws CLI v1 still makes them for `aws s3 presign` unless told
// to use SigV4, so Coffer accepts them for S3 GET/HEAD-style use. SigV2 Authorization headers
// stay unsupported.

// sigV2Subresources are the query parameters that belong to the signed resource.
var sigV2Subresources = map[string]bool{
	"acl": true, "cors": true, "delete": true, "lifecycle": true, "location": true, "logging": true,
	"notification": true, "partNumber": true, "policy": true, "requestPayment": true, "restore": true,
	"tagging": true, "torrent": true, "uploadId": true, "uploads": true, "versionId": true,
	"versioning": true, "versions": true, "website": true,
	"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true,
	"response-content-language": true, "response-content-type": true, "response-expires": true,
}

// isPresignedV2 reports whether the query carries SigV2 query authentication.
func isPresignedV2(params []queryParam) bool {
	for _, p := range params {
		if p.key == "AWSAccessKeyId" {
			return true
		}
	}
	return false
}

func (v *Verifier) verifyPresignedV2(r *http.Request, params []queryParam) (*Auth, error) {
	if v.Service != "" && v.Service != "s3" {
		return nil, fmt.Errorf("%w: signature version 2 is for s3 only", ErrUnsupportedSignature)
	}
	var ak, sig, exp string
	for _, p := range params { // values are already decoded by parseQuery
		val := p.value
		switch p.key {
		case "AWSAccessKeyId":
			ak = val
		case "Signature":
			sig = val
		case "Expires":
			exp = val
		}
	}
	if ak == "" || sig == "" || exp == "" {
		return nil, fmt.Errorf("%w: AWSAccessKeyId, Signature and Expires are all required", ErrQueryMalformed)
	}
	expires, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || expires < 0 {
		return nil, fmt.Errorf("%w: bad Expires", ErrQueryMalformed)
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(got) != sha1.Size {
		return nil, ErrSignatureDoesNotMatch
	}
	c, err := v.lookup(r.Context(), ak, queryToken(params, "x-amz-security-token"))
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha1.New, c.Secret)
	mac.Write([]byte(stringToSignV2(r, params, exp)))
	if !hmac.Equal(mac.Sum(nil), got) {
		return nil, ErrSignatureDoesNotMatch
	}
	end := time.Unix(expires, 0)
	if v.now().After(end) {
		return nil, ErrRequestExpired
	}
	length := r.ContentLength
	if length < 0 {
		length = -1
	}
	return &Auth{
		AccessKey: ak, Owner: c.Owner, Service: "s3", Region: v.Region, Presigned: true, SigV2: true, Expires: end,
		ContentSHA256: UnsignedPayload, Body: r.Body, DecodedLength: length,
	}, nil
}

// stringToSignV2 builds the SigV2 string to sign of a presigned request. The resource is the
// path as the client sent it (path-style addressing, which is what clients presign against a
// custom endpoint).
func stringToSignV2(r *http.Request, params []queryParam, expires string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(r.Header.Get("Content-MD5") + "\n")
	b.WriteString(r.Header.Get("Content-Type") + "\n")
	b.WriteString(expires + "\n")
	var amz []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") {
			amz = append(amz, lk)
		}
	}
	slices.Sort(amz)
	for _, k := range amz {
		vals := r.Header.Values(k)
		for i := range vals {
			vals[i] = strings.TrimSpace(vals[i])
		}
		b.WriteString(k + ":" + strings.Join(vals, ",") + "\n")
	}
	path, _, _ := strings.Cut(r.RequestURI, "?")
	if path == "" || path[0] != '/' {
		path = r.URL.EscapedPath()
	}
	b.WriteString(path)
	var sub []queryParam
	for _, p := range params {
		if sigV2Subresources[p.key] {
			sub = append(sub, p)
		}
	}
	slices.SortStableFunc(sub, func(a, b queryParam) int { return strings.Compare(a.key, b.key) })
	for i, p := range sub {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		if p.value != "" {
			b.WriteString("=" + p.value)
		}
	}
	return b.String()
}
