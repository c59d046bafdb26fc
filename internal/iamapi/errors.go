package iamapi

import (
	"errors"
	"net/http"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/sigv4"
)

// apiError is an IAM/STS error as the client sees it.
type apiError struct {
	code    string
	status  int
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// kind is the Type element: Sender for the client's errors, Receiver for ours.
func (e *apiError) kind() string {
	if e.status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

var (
	errWrongService   = &apiError{"InvalidClientTokenId", http.StatusForbidden, "The security token included in the request is invalid."}
	errBodyTooLarge   = &apiError{"RequestEntityTooLarge", http.StatusRequestEntityTooLarge, "Request body too large."}
	errMalformedQuery = &apiError{"MalformedQueryString", http.StatusNotFound, "The query string is malformed."}
	errMissingAction  = &apiError{"MissingAction", http.StatusBadRequest, "Missing Action"}
	errInternal       = &apiError{"ServiceFailure", http.StatusInternalServerError, "An internal error occurred."}
)

// table maps error classes to codes; a message of "" takes the error's own (*iam.Error) text.
var table = []struct {
	class   error
	code    string
	status  int
	message string
}{
	{iam.ErrNoSuchEntity, "NoSuchEntity", http.StatusNotFound, ""},
	{iam.ErrEntityExists, "EntityAlreadyExists", http.StatusConflict, ""},
	{iam.ErrDeleteConflict, "DeleteConflict", http.StatusConflict, ""},
	{iam.ErrLimitExceeded, "LimitExceeded", http.StatusConflict, ""},
	{iam.ErrValidation, "ValidationError", http.StatusBadRequest, ""},
	{iam.ErrMalformed, "MalformedPolicyDocument", http.StatusBadRequest, ""},
	{iam.ErrInvalidInput, "InvalidInput", http.StatusBadRequest, ""},
	{iam.ErrNotSupported, "UnsupportedOperation", http.StatusBadRequest, ""},
	{iam.ErrAccessDenied, "AccessDenied", http.StatusForbidden, ""},
	{iam.ErrPackedPolicyTooLarge, "PackedPolicyTooLarge", http.StatusBadRequest, ""},
	{sigv4.ErrMissingAuth, "MissingAuthenticationToken", http.StatusForbidden, "Request is missing Authentication Token"},
	{sigv4.ErrInvalidAccessKeyID, "InvalidClientTokenId", http.StatusForbidden, "The security token included in the request is invalid."},
	{sigv4.ErrInvalidToken, "InvalidClientTokenId", http.StatusForbidden, "The security token included in the request is invalid."},
	{sigv4.ErrExpiredToken, "ExpiredToken", http.StatusForbidden, "The security token included in the request is expired"},
	{sigv4.ErrSignatureDoesNotMatch, "SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."},
	{sigv4.ErrContentSHA256Mismatch, "SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided."},
	{sigv4.ErrRequestExpired, "SignatureDoesNotMatch", http.StatusForbidden, "Signature expired."},
	{sigv4.ErrRequestNotYetValid, "SignatureDoesNotMatch", http.StatusForbidden, "Signature not yet current."},
	{sigv4.ErrTimeSkewed, "SignatureDoesNotMatch", http.StatusForbidden, "Signature expired: the request time is too skewed from the server time."},
	{sigv4.ErrAuthHeaderMalformed, "IncompleteSignature", http.StatusBadRequest, "The request signature does not conform to AWS standards."},
	{sigv4.ErrQueryMalformed, "IncompleteSignature", http.StatusBadRequest, "The request signature does not conform to AWS standards."},
	{sigv4.ErrMissingDate, "IncompleteSignature", http.StatusBadRequest, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
	{sigv4.ErrHeadersNotSigned, "IncompleteSignature", http.StatusBadRequest, "The request signature does not conform to AWS standards."},
	{sigv4.ErrUnsupportedSignature, "IncompleteSignature", http.StatusBadRequest, "The request signature does not conform to AWS standards."},
	{sigv4.ErrBodyTooLarge, "RequestEntityTooLarge", http.StatusRequestEntityTooLarge, "Request body too large."},
	{sigv4.ErrIncompleteBody, "IncompleteSignature", http.StatusBadRequest, "The request body is incomplete."},
	{sigv4.ErrInvalidContentSHA256, "IncompleteSignature", http.StatusBadRequest, "The request signature does not conform to AWS standards."},
}

// classify turns any error into the client's error; unknown errors are internal and their
// text never reaches the client.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBodyTooLarge
	}
	for _, t := range table {
		if !errors.Is(err, t.class) {
			continue
		}
		msg := t.message
		var ie *iam.Error
		if msg == "" && errors.As(err, &ie) {
			msg = ie.Message
		}
		return &apiError{t.code, t.status, msg}
	}
	return errInternal
}
