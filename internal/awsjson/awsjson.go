// Package awsjson holds what Coffer's wire layers for AWS's JSON 1.1 protocol (the KMS,
// CloudTrail) share: the timestamp shape, which payload hashes a signature must cover, and how
// authentication failures are named.
package awsjson

import (
	"errors"
	"strconv"
	"time"

	"github.com/coffer/coffer/internal/sigv4"
)

// Epoch is a timestamp on the wire: seconds since the epoch as a JSON number.
type Epoch time.Time

// MarshalJSON writes seconds with millisecond precision.
func (e Epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// ErrBadTimestamp is a timestamp that is not a JSON number.
var ErrBadTimestamp = errors.New("awsjson: timestamp is not a number")

// UnmarshalJSON reads a JSON number of (possibly fractional) seconds.
func (e *Epoch) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return ErrBadTimestamp
	}
	sec := int64(f)
	*e = Epoch(time.Unix(sec, int64((f-float64(sec))*1e9)).UTC())
	return nil
}

// Time returns t as an optional wire timestamp: nil for the zero time, so that omitempty
// drops it.
func Time(t time.Time) *Epoch {
	if t.IsZero() {
		return nil
	}
	e := Epoch(t)
	return &e
}

// SignedPayload reports whether a request's payload hash is a hex SHA-256 the signature
// covers. UNSIGNED-PAYLOAD and the streaming modes leave a JSON body unauthenticated: a
// request whose body could be swapped after signing is refused.
func SignedPayload(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// authErrors names each authentication failure (package sigv4) as AWS's JSON services do:
// exception name and message; every one is a 400. It is never modified.
var authErrors = []struct {
	class   error
	typ     string
	message string
}{
	{sigv4.ErrMissingAuth, "MissingAuthenticationTokenException", "Missing Authentication Token"},
	{sigv4.ErrInvalidAccessKeyID, "UnrecognizedClientException", "The security token included in the request is invalid."},
	{sigv4.ErrInvalidToken, "UnrecognizedClientException", "The security token included in the request is invalid."},
	{sigv4.ErrExpiredToken, "ExpiredTokenException", "The security token included in the request is expired"},
	{sigv4.ErrSignatureDoesNotMatch, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."},
	{sigv4.ErrRequestExpired, "InvalidSignatureException", "Signature expired."},
	{sigv4.ErrRequestNotYetValid, "InvalidSignatureException", "Signature not yet current."},
	{sigv4.ErrTimeSkewed, "InvalidSignatureException", "Signature expired: the request time is too skewed from the server time."},
	{sigv4.ErrContentSHA256Mismatch, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."},
	{sigv4.ErrInvalidContentSHA256, "InvalidSignatureException", "The x-amz-content-sha256 header is not valid."},
	{sigv4.ErrMissingContentSHA256, "InvalidSignatureException", "Missing x-amz-content-sha256."},
	{sigv4.ErrAuthHeaderMalformed, "IncompleteSignatureException", "The authorization header is malformed."},
	{sigv4.ErrQueryMalformed, "IncompleteSignatureException", "The authorization query parameters are malformed."},
	{sigv4.ErrUnsupportedSignature, "IncompleteSignatureException", "Unsupported signature algorithm."},
	{sigv4.ErrMissingDate, "IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
	{sigv4.ErrHeadersNotSigned, "IncompleteSignatureException", "Headers present in the request were not signed."},
	{sigv4.ErrIncompleteBody, "SerializationException", "The request body is incomplete."},
	{sigv4.ErrMalformedChunk, "SerializationException", "The request body is malformed."},
	{sigv4.ErrBodyTooLarge, "ValidationException", "The request body is too large."},
}

// AuthError names an authentication failure of package sigv4 as AWS's JSON services answer
// it (status 400): its exception name and message; ok is false for any other error.
func AuthError(err error) (typ, message string, ok bool) {
	var re *sigv4.RegionError
	if errors.As(err, &re) {
		return "InvalidSignatureException", "Credential should be scoped to a valid region.", true
	}
	for _, row := range authErrors {
		if errors.Is(err, row.class) {
			return row.typ, row.message, true
		}
	}
	return "", "", false
}
