package trailapi

import (
	"errors"
	"net/http"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/sigv4"
	"github.com/coffer/coffer/internal/trail"
)

// apiError is an error as the client sees it: a CloudTrail exception name, a status and a
// message.
type apiError struct {
	Type    string
	Status  int
	Message string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

// errorTable is the one table from error class to CloudTrail exception and HTTP status.
// Service errors (trail.Error, iam.Error) carry their own message; the others get a fixed one.
var errorTable = []struct {
	class   error
	typ     string
	status  int
	message string // used when the error carries none
}{
	// package trail
	{trail.ErrTrailNotFound, "TrailNotFoundException", 400, "Unknown trail."},
	{trail.ErrTrailExists, "TrailAlreadyExistsException", 400, ""},
	{trail.ErrTooManyTrails, "MaximumNumberOfTrailsExceededException", 400, ""},
	{trail.ErrInvalidName, "InvalidTrailNameException", 400, ""},
	{trail.ErrInvalidARN, "CloudTrailARNInvalidException", 400, ""},
	{trail.ErrBucketDoesNotExist, "S3BucketDoesNotExistException", 400, ""},
	{trail.ErrInsufficientPolicy, "InsufficientS3BucketPolicyException", 400, ""},
	{trail.ErrInvalidBucketName, "InvalidS3BucketNameException", 400, ""},
	{trail.ErrInvalidPrefix, "InvalidS3PrefixException", 400, ""},
	{trail.ErrInvalidEventSelectors, "InvalidEventSelectorsException", 400, ""},
	{trail.ErrInvalidParameter, "InvalidParameterException", 400, ""},
	{trail.ErrInvalidCombination, "InvalidParameterCombinationException", 400, ""},
	{trail.ErrUnsupported, "UnsupportedOperationException", 400, ""},
	// package trailapi: LookupEvents and ListPublicKeys
	{errLookupAttributes, "InvalidLookupAttributesException", 400, ""},
	{errTimeRange, "InvalidTimeRangeException", 400, "Start time must not be after end time."},
	{errMaxResults, "InvalidMaxResultsException", 400, "MaxResults must be between 1 and 50."},
	{errNextToken, "InvalidNextTokenException", 400, "Invalid NextToken."},
	{errEventCategory, "InvalidEventCategoryException", 400, "EventCategory must be insight."},
	{errInvalidToken, "InvalidTokenException", 400, "Invalid token."},
	// package iam
	{iam.ErrAccessDenied, "AccessDeniedException", 400, ""},
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
	// package trailapi: the request itself
	{errWrongService, "InvalidSignatureException", 400, "Credential should be scoped to correct service: 'cloudtrail'."},
	{errSerialization, "SerializationException", 400, "The request body could not be parsed."},
	{errUnknownOperation, "UnknownOperationException", 400, "Unknown operation."},
	{errBodyTooLarge, "ValidationException", 400, "The request body is too large."},
}

var (
	errWrongService     = errors.New("trailapi: credential scope is not cloudtrail")
	errSerialization    = errors.New("trailapi: malformed JSON body")
	errUnknownOperation = errors.New("trailapi: unknown operation")
	errBodyTooLarge     = errors.New("trailapi: body too large")
	errLookupAttributes = errors.New("trailapi: invalid lookup attributes")
	errTimeRange        = errors.New("trailapi: invalid time range")
	errMaxResults       = errors.New("trailapi: invalid MaxResults")
	errNextToken        = errors.New("trailapi: invalid NextToken")
	errEventCategory    = errors.New("trailapi: invalid event category")
	errInvalidToken     = errors.New("trailapi: invalid token")
)

// detail is a trailapi error with its own message.
type detail struct {
	class   error
	message string
}

func (d *detail) Error() string { return d.class.Error() + ": " + d.message }
func (d *detail) Unwrap() error { return d.class }

var internalError = &apiError{Type: "InternalFailure", Status: http.StatusInternalServerError, Message: "An internal error occurred."}

// classify turns any error into what the client sees. Unknown errors are internal: their text
// never reaches the client.
func classify(err error) *apiError {
	var re *sigv4.RegionError
	if errors.As(err, &re) {
		return &apiError{Type: "InvalidSignatureException", Status: 400, Message: "Credential should be scoped to a valid region."}
	}
	msg := ""
	var te *trail.Error
	var ie *iam.Error
	var de *detail
	switch {
	case errors.As(err, &te):
		msg = te.Message
	case errors.As(err, &ie):
		msg = ie.Message
	case errors.As(err, &de):
		msg = de.message
	}
	for _, row := range errorTable {
		if errors.Is(err, row.class) {
			if msg == "" {
				msg = row.message
			}
			return &apiError{Type: row.typ, Status: row.status, Message: msg}
		}
	}
	return internalError
}
