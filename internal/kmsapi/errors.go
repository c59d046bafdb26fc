package kmsapi

import (
	"errors"
	"net/http"

	"github.com/coffer/coffer/internal/awsjson"
	"github.com/coffer/coffer/internal/kms"
)

// apiError is an error as the client sees it: an AWS exception name, a status and a message.
type apiError struct {
	Type    string
	Status  int
	Message string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

// errorTable is the one table from error class to AWS exception name and HTTP status; service
// errors (kms.Error) carry their own AWS message. Authentication errors are named by
// awsjson.AuthError, as every JSON service names them.
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
	{kms.ErrCustomKeyStoreNotFound, "CustomKeyStoreNotFoundException", 400, ""},
	{kms.ErrCustomKeyStoreInvalidState, "CustomKeyStoreInvalidStateException", 400, ""},
	{kms.ErrCustomKeyStoreNameInUse, "CustomKeyStoreNameInUseException", 400, ""},
	{kms.ErrCustomKeyStoreHasCMKs, "CustomKeyStoreHasCMKsException", 400, ""},
	{kms.ErrCloudHsmClusterNotFound, "CloudHsmClusterNotFoundException", 400, ""},
	{kms.ErrCloudHsmClusterInUse, "CloudHsmClusterInUseException", 400, ""},
	{kms.ErrCloudHsmClusterNotActive, "CloudHsmClusterNotActiveException", 400, ""},
	{kms.ErrIncorrectTrustAnchor, "IncorrectTrustAnchorException", 400, ""},
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
	if typ, msg, ok := awsjson.AuthError(err); ok {
		return &apiError{Type: typ, Status: 400, Message: msg}
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
