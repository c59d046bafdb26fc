package sigv4

import (
	"errors"
	"fmt"
)

// Error classes returned (wrapped, with detail) by Verify and by Auth.Body.
// Test with errors.Is; the wire layers keep the table from class to AWS code.
var (
	// ErrMissingAuth: no Authorization header and no X-Amz-Algorithm query
	// parameter; the request is anonymous.
	ErrMissingAuth = errors.New("sigv4: request is not signed")
	// ErrAuthHeaderMalformed: the Authorization header cannot be parsed or its
	// credential scope is wrong (400 AuthorizationHeaderMalformed). Wrong
	// regions come as *RegionError, which unwraps to this class.
	ErrAuthHeaderMalformed = errors.New("sigv4: authorization header malformed")
	// ErrQueryMalformed: the presigned query parameters are missing or invalid
	// (400 AuthorizationQueryParametersError).
	ErrQueryMalformed = errors.New("sigv4: authorization query parameters malformed")
	// ErrUnsupportedSignature: SigV2, SigV4a or an unknown algorithm.
	ErrUnsupportedSignature = errors.New("sigv4: unsupported signature algorithm")
	// ErrInvalidAccessKeyID: the access key is unknown (403 InvalidAccessKeyId).
	ErrInvalidAccessKeyID = errors.New("sigv4: invalid access key id")
	// ErrInvalidToken: the session token of temporary credentials is missing, malformed or
	// not theirs, or a token came with a long-term key (S3 403 InvalidToken, KMS
	// UnrecognizedClientException, IAM/STS InvalidClientTokenId).
	ErrInvalidToken = errors.New("sigv4: invalid security token")
	// ErrExpiredToken: the temporary credentials have expired (S3 400 ExpiredToken, KMS/IAM/STS
	// ExpiredTokenException / ExpiredToken).
	ErrExpiredToken = errors.New("sigv4: security token expired")
	// ErrSignatureDoesNotMatch: a request, chunk or trailer signature is wrong
	// (403 SignatureDoesNotMatch).
	ErrSignatureDoesNotMatch = errors.New("sigv4: signature does not match")
	// ErrRequestExpired: a presigned request is past X-Amz-Date + X-Amz-Expires
	// (403 AccessDenied "Request has expired").
	ErrRequestExpired = errors.New("sigv4: request has expired")
	// ErrRequestNotYetValid: a presigned request dated in the future beyond the
	// allowed clock skew.
	ErrRequestNotYetValid = errors.New("sigv4: request is not yet valid")
	// ErrTimeSkewed: a header-signed request's time differs from the server's by
	// more than MaxSkew (403 RequestTimeTooSkewed).
	ErrTimeSkewed = errors.New("sigv4: request time too skewed")
	// ErrMissingDate: no usable x-amz-date or Date header.
	ErrMissingDate = errors.New("sigv4: missing or invalid request date")
	// ErrMissingContentSHA256: an S3 header-signed request without
	// x-amz-content-sha256 (400 InvalidRequest).
	ErrMissingContentSHA256 = errors.New("sigv4: missing x-amz-content-sha256")
	// ErrInvalidContentSHA256: x-amz-content-sha256 is neither a hex SHA-256
	// nor a known payload mode (400 InvalidArgument).
	ErrInvalidContentSHA256 = errors.New("sigv4: invalid x-amz-content-sha256")
	// ErrHeadersNotSigned: an x-amz-* header is present but not signed
	// (403 AccessDenied).
	ErrHeadersNotSigned = errors.New("sigv4: headers present in the request were not signed")
	// ErrContentSHA256Mismatch: the body does not hash to x-amz-content-sha256
	// (400 XAmzContentSHA256Mismatch); returned by Auth.Body.Read at the end.
	ErrContentSHA256Mismatch = errors.New("sigv4: x-amz-content-sha256 does not match the payload")
	// ErrIncompleteBody: the decoded length differs from
	// x-amz-decoded-content-length or the body ended early (400 IncompleteBody).
	ErrIncompleteBody = errors.New("sigv4: incomplete body")
	// ErrMalformedChunk: bad aws-chunked framing or trailer syntax.
	ErrMalformedChunk = errors.New("sigv4: malformed aws-chunked encoding")
	// ErrBodyTooLarge: a body that must be buffered to hash it exceeds MaxBody.
	ErrBodyTooLarge = errors.New("sigv4: body too large")

	// ErrPostFormMalformed: the authentication fields of a POST form (x-amz-credential,
	// x-amz-date, x-amz-signature, signature) cannot be parsed (400 InvalidArgument).
	ErrPostFormMalformed = errors.New("sigv4: POST form authentication fields malformed")
	// ErrPolicyMalformed: the POST policy is not valid base64 or not a valid policy document
	// (400 InvalidPolicyDocument).
	ErrPolicyMalformed = errors.New("sigv4: POST policy malformed")
	// ErrPolicyExpired: the POST policy's expiration has passed (403 AccessDenied).
	ErrPolicyExpired = errors.New("sigv4: POST policy expired")
	// ErrPolicyCondition: a form field fails a POST policy condition (403 AccessDenied).
	ErrPolicyCondition = errors.New("sigv4: POST policy condition failed")
	// ErrPolicyExtraField: a form field is named by no POST policy condition (403 AccessDenied).
	ErrPolicyExtraField = errors.New("sigv4: form field not covered by the POST policy")
)

// PolicyError is a POST policy failure with the detail S3 reports to the client: the
// condition that failed, the fields no condition covers, or what is wrong in the document.
// Everything in Detail came from the client's own form. It unwraps to its error class.
type PolicyError struct {
	Detail string
	class  error
}

func policyErr(class error, detail string) *PolicyError {
	return &PolicyError{Detail: detail, class: class}
}

func (e *PolicyError) Error() string { return e.class.Error() + ": " + e.Detail }

// Unwrap returns the error class.
func (e *PolicyError) Unwrap() error { return e.class }

// RegionError reports a credential scope naming another region than the
// server's. It unwraps to ErrAuthHeaderMalformed (header auth) or
// ErrQueryMalformed (presigned), so errors.Is works on the class while
// errors.As gives the wire layer the region to put in the error body.
type RegionError struct {
	Expected string // the server's region
	Got      string // the region in the credential scope
	class    error
}

func (e *RegionError) Error() string {
	return fmt.Sprintf("%v: the region %q is wrong; expecting %q", e.class, e.Got, e.Expected)
}

// Unwrap returns the error class.
func (e *RegionError) Unwrap() error { return e.class }
