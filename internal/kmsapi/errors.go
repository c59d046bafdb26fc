package kmsapi

import (
	"errors"
	"net/http"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/sigv4"
)

// apiError is an error as the client sees it: an AWS exception name, a status and a message.
type apiError struct {
	Type    string
	Status  int
	Message string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

// errorTable is the one table from error class to AWS exception name and HTTP status. Service
// errors (kms.Error) carry their own AWS message; authentication errors get a fixed one.
var errorTable = []struct {
	class   error
	typ     string
	status  int
	message string // used when the error carries none
}{
	// package kms
	{kms.ErrNotFound, "NotFoundException", 400, ""},
	{kms.ErrInvalidArn, "InvalidArnException", 400, ""},
	{kms.ErrDisabled, "DisabledException", 400, ""},
	{kms.ErrInvalidState, "KMSInvalidStateException", 400, ""},
	{kms.ErrInvalidKeyUsage, "InvalidKeyUsageException", 400, ""},
	{kms.ErrInvalidCiphertext, "InvalidCiphertextException", 400, ""},
	{kms.ErrIncorrectKey, "IncorrectKeyException", 400, ""},
	{kms.ErrInvalidSignature, "KMSInvalidSignatureException", 400, ""},
	{kms.ErrInvalidMac, "KMSInvalidMacException", 400, ""},
	{kms.ErrInvalidMarker, "InvalidMarkerException", 400, ""},
	{kms.ErrInvalidGrantID, "InvalidGrantIdException", 400, ""},
	{kms.ErrInvalidGrantToken, "InvalidGrantTokenException", 400, ""},
	{kms.ErrInvalidAliasName, "InvalidAliasNameException", 400, ""},
	{kms.ErrAlreadyExists, "AlreadyExistsException", 400, ""},
	{kms.ErrLimitExceeded, "LimitExceededException", 400, ""},
	{kms.ErrMalformedPolicy, "MalformedPolicyDocumentException", 400, ""},
	{kms.ErrTag, "TagException", 400, ""},
	{kms.ErrConflict, "ConflictException", 400, ""},
	{kms.ErrExpiredImportToken, "ExpiredImportTokenException", 400, ""},
	{kms.ErrInvalidImportToken, "InvalidImportTokenException", 400, ""},
	{kms.ErrIncorrectKeyMaterial, "IncorrectKeyMaterialException", 400, ""},
	{kms.ErrUnsupported, "UnsupportedOperationException", 400, ""},
	{kms.ErrValidation, "ValidationException", 400, ""},
	{kms.ErrDryRun, "DryRunOperationException", 400, ""},
	{kms.ErrNotAuthorized, "NotAuthorizedException", 400, ""},
	{kms.ErrAccessDenied, "AccessDeniedException", 400, ""},
	// package sigv4
	{sigv4.ErrMissingAuth, "MissingAuthenticationTokenException", 400, "Missing Authentication Token"},
	{sigv4.ErrInvalidAccessKeyID, "UnrecognizedClientException", 400, "The security token included in the request is invalid."},
	{sigv4.ErrInvalidToken, "UnrecognizedClientException", 400, "The security token included in the request is invalid."},
	{sigv4.ErrExpiredToken, "ExpiredTokenException", 400, "The security token included in the request is expired"},
	{sigv4.ErrSignatureDoesNotMatch, "InvalidSignatureException", 400, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."},
	{sigv4.ErrRequestExpired, "InvalidSignatureException", 400, "Signature expired."},
	{sigv4.ErrRequestNotYetValid, "InvalidSignatureException", 400, "Signature not yet current."},
	{sigv4.ErrTimeSkewed, "InvalidSignatureException", 400, "Signature expired: the request time is too skewed from the server time."},
	{sigv4.ErrContentSHA256Mismatch, "InvalidSignatureException", 400, "The request signature we calculated does not match the signature you provided."},
	{sigv4.ErrInvalidContentSHA256, "InvalidSignatureException", 400, "The x-amz-content-sha256 header is not valid."},
	{sigv4.ErrMissingContentSHA256, "InvalidSignatureException", 400, "Missing x-amz-content-sha256."},
	{sigv4.ErrAuthHeaderMalformed, "IncompleteSignatureException", 400, "The authorization header is malformed."},
	{sigv4.ErrQueryMalformed, "IncompleteSignatureException", 400, "The authorization query parameters are malformed."},
	{sigv4.ErrUnsupportedSignature, "IncompleteSignatureException", 400, "Unsupported signature algorithm."},
	{sigv4.ErrMissingDate, "IncompleteSignatureException", 400, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
	{sigv4.ErrHeadersNotSigned, "IncompleteSignatureException", 400, "Headers present in the request were not signed."},
	{sigv4.ErrIncompleteBody, "SerializationException", 400, "The request body is incomplete."},
	{sigv4.ErrMalformedChunk, "SerializationException", 400, "The request body is malformed."},
	{sigv4.ErrBodyTooLarge, "ValidationException", 400, "The request body is too large."},
	// package kmsapi
	{errWrongService, "InvalidSignatureException", 400, "Credential should be scoped to correct service: 'kms'."},
	{errSerialization, "SerializationException", 400, "The request body could not be parsed."},
	{errUnknownOperation, "UnknownOperationException", 400, ""},
	{errBodyTooLarge, "ValidationException", 400, "The request body is too large."},
}

var (
	errWrongService     = errors.New("kmsapi: credential scope is not kms")
	errSerialization    = errors.New("kmsapi: malformed JSON body")
	errUnknownOperation = errors.New("kmsapi: unknown operation")
	errBodyTooLarge     = errors.New("kmsapi: body too large")
)

var internalError = &apiError{Type: "KMSInternalException", Status: http.StatusInternalServerError, Message: "An internal error occurred."}

// classify turns any error into what the client sees. Unknown errors are internal: their
// text never reaches the client.
func classify(err error) *apiError {
	var ke *kms.Error
	hasMsg := errors.As(err, &ke)
	var re *sigv4.RegionError
	if errors.As(err, &re) {
		return &apiError{Type: "InvalidSignatureException", Status: 400, Message: "Credential should be scoped to a valid region."}
	}
	for _, row := range errorTable {
		if errors.Is(err, row.class) {
			msg := row.message
			if hasMsg && ke.Kind == row.class {
				msg = ke.Message
			}
			return &apiError{Type: row.typ, Status: row.status, Message: msg}
		}
	}
	return internalError
}
