package object

import (
	"context"
	"errors"

	"github.com/coffer/coffer/internal/secret"
)

// Keys is what the object service needs from the key service, and all it may ask: it never
// sees KMS key material, only per-object keys in sealed and unsealed form. internal/server
// adapts the KMS to it.
type Keys interface {
	// SealServiceKey seals an SSE-S3 object key under the current version of the service key,
	// bound to ec. The sealed form names the key version it was made with, so it opens after
	// any number of rotations.
	SealServiceKey(ctx context.Context, objectKey secret.Key, ec map[string]string) ([]byte, error)
	// UnsealServiceKey opens what SealServiceKey made, given the same ec. Any mismatch or
	// damage is an error; it never yields a wrong key.
	UnsealServiceKey(ctx context.Context, sealed []byte, ec map[string]string) (secret.Key, error)
	// DataKey makes a data key under the KMS key keyID on behalf of c (SSE-KMS, later).
	DataKey(ctx context.Context, c Caller, keyID string, ec map[string]string) (DataKey, error)
	// Unwrap opens a wrapped data key on behalf of c (SSE-KMS, later).
	Unwrap(ctx context.Context, c Caller, keyID string, wrapped []byte, ec map[string]string) (secret.Bytes, error)
}

// Caller is the principal a KMS operation runs for.
type Caller struct {
	Account string
	ARN     string
}

// DataKey is a data key from the KMS: in plaintext and wrapped under KeyARN.
type DataKey struct {
	KeyARN    string
	Plaintext secret.Bytes
	Wrapped   []byte
}

// ErrDamaged classes stored data that fails authentication: a damaged or tampered blob or
// encryption record. The service never returns wrong bytes in its place.
var ErrDamaged = errors.New("object: stored data failed authentication")

// ErrNoKeys is returned for a write or read that needs the key service when none is wired.
var ErrNoKeys = errors.New("object: no key service configured")
