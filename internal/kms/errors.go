package kms

import (
	"errors"
	"fmt"
)

// Error classes. Every error the Service returns to a caller either wraps one of these (the
// wire layer maps each to an AWS exception name and status) or is an internal failure.
var (
	ErrNotFound             = errors.New("not found")
	ErrInvalidArn           = errors.New("invalid arn")
	ErrDisabled             = errors.New("disabled")
	ErrInvalidState         = errors.New("invalid key state")
	ErrInvalidKeyUsage      = errors.New("invalid key usage")
	ErrInvalidCiphertext    = errors.New("invalid ciphertext")
	ErrIncorrectKey         = errors.New("incorrect key")
	ErrInvalidSignature     = errors.New("invalid signature")
	ErrInvalidMac           = errors.New("invalid mac")
	ErrInvalidMarker        = errors.New("invalid marker")
	ErrInvalidGrantID       = errors.New("invalid grant id")
	ErrInvalidGrantToken    = errors.New("invalid grant token")
	ErrInvalidAliasName     = errors.New("invalid alias name")
	ErrAlreadyExists        = errors.New("already exists")
	ErrLimitExceeded        = errors.New("limit exceeded")
	ErrMalformedPolicy      = errors.New("malformed policy document")
	ErrTag                  = errors.New("tag error")
	ErrConflict             = errors.New("conflict")
	ErrExpiredImportToken   = errors.New("expired import token")
	ErrInvalidImportToken   = errors.New("invalid import token")
	ErrIncorrectKeyMaterial = errors.New("incorrect key material")
	ErrUnsupported          = errors.New("unsupported operation")
	ErrValidation           = errors.New("validation")
	ErrDryRun               = errors.New("dry run")
	ErrNotAuthorized        = errors.New("not authorized")
	ErrAccessDenied         = errors.New("access denied")
)

// Error is a client-facing failure: Kind is one of the classes above and Message is the text
// AWS would show (it names only what the caller already knows, such as a key ARN).
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return "kms: " + e.Kind.Error() + ": " + e.Message }

// Unwrap lets errors.Is match the class.
func (e *Error) Unwrap() error { return e.Kind }

func errf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// errValidation builds AWS's constraint-violation text for one member.
func errValidation(format string, args ...any) error {
	return &Error{Kind: ErrValidation, Message: fmt.Sprintf(format, args...)}
}

func errConstraint(value any, member, constraint string) error {
	return errValidation("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

var errCiphertext = &Error{Kind: ErrInvalidCiphertext}
