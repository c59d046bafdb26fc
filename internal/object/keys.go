package object

import (
	"context"
	"errors"

	"github.com/coffer/coffer/internal/secret"
)

// Keys is what the object service needs from the key service, and all it may ask: it never
// sees KMS key material, only per-object keys (and the data keys that protect them) in sealed
// and unsealed form. internal/server/objectkeys adapts the KMS to it.
type Keys interface {
	// SealServiceKey seals an SSE-S3 object key under the current version of the service key,
	// bound to ec. The sealed form names the key version it was made with, so it opens after
	// any number of rotations.
	SealServiceKey(ctx context.Context, objectKey secret.Key, ec map[string]string) ([]byte, error)
	// UnsealServiceKey opens what SealServiceKey made, given the same ec. Any mismatch or
	// damage is an error; it never yields a wrong key.
	UnsealServiceKey(ctx context.Context, sealed []byte, ec map[string]string) (secret.Key, error)
	// DataKey makes a 256-bit data key under the KMS key keyID on behalf of c, bound to ec.
	// An empty keyID means the caller account's AWS managed key alias/aws/s3, made on first
	// use. Key-state and permission failures are *KMSError.
	DataKey(ctx context.Context, c Caller, keyID string, ec map[string]string) (DataKey, error)
	// Unwrap opens a data key wrapped under keyARN on behalf of c, given the same ec. A
	// wrapped key that does not open is ErrDamaged; key-state failures are *KMSError.
	Unwrap(ctx context.Context, c Caller, keyARN string, wrapped []byte, ec map[string]string) (secret.Bytes, error)
	// Wrap wraps an existing key under the KMS key keyID (a key ARN) on behalf of c, bound to
	// ec, and returns the key's ARN with the wrapped form, which Unwrap opens. It re-wraps an
	// object's key for UpdateObjectEncryption. Key-state and permission failures are *KMSError.
	Wrap(ctx context.Context, c Caller, keyID string, key secret.Key, ec map[string]string) (keyARN string, wrapped []byte, err error)
	// CheckKey reports whether c may use keyARN now, to make data keys (write) or open them,
	// bound to ec: it exists, is enabled and c is allowed. It is a lookup of the key's state
	// and permissions, not a cryptographic call; the object service asks it before using a
	// cached bucket key, so disabling a key or changing its policy takes effect at once.
	CheckKey(ctx context.Context, c Caller, keyARN string, write bool, ec map[string]string) error
}

// Caller is the principal a KMS operation runs for: S3 calls the KMS as the requester.
type Caller struct {
	Account string
	ARN     string
}

type callerKey struct{}

// WithCaller returns ctx carrying the requester c, on whose behalf the object service calls
// the KMS for SSE-KMS and DSSE-KMS objects. The wire layer sets it once per request.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// callerOf returns the requester of ctx (the zero Caller if none, which the KMS refuses).
func callerOf(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// DataKey is a data key from the KMS: in plaintext and wrapped under KeyARN.
type DataKey struct {
	KeyARN    string
	Plaintext secret.Bytes
	Wrapped   []byte
}

// KMSError is a failure the KMS reported for a key S3 used on the requester's behalf. S3
// passes it on as KMS.<Exception> (AccessDeniedException as 403 AccessDenied).
type KMSError struct {
	Exception string // e.g. NotFoundException, DisabledException, KMSInvalidStateException
	Message   string // the KMS's own text, which names only the key the client chose
}

func (e *KMSError) Error() string { return "object: KMS " + e.Exception + ": " + e.Message }

// ErrDamaged classes stored data that fails authentication: a damaged or tampered blob or
// encryption record. The service never returns wrong bytes in its place.
var ErrDamaged = errors.New("object: stored data failed authentication")

// ErrNoKeys is returned for a write or read that needs the key service when none is wired.
var ErrNoKeys = errors.New("object: no key service configured")
