package trailapi

import (
	"errors"
	"net/http"

	"github.com/coffer/coffer/internal/awsjson"
	"github.com/coffer/coffer/internal/iam"
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
// Authentication errors are named by awsjson.AuthError, as every JSON service names them.
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
	if typ, msg, ok := awsjson.AuthError(err); ok {
		return &apiError{Type: typ, Status: 400, Message: msg}
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
