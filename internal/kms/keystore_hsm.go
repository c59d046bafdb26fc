package kms

import (
	"context"
	"errors"
)

// HSMs are the hardware security modules the server is configured with, by the name that
// CreateCustomKeyStore's CloudHsmClusterId gives (package pkcs11hsm is the PKCS#11 driver).
type HSMs interface {
	// Has reports whether an HSM of that name is configured.
	Has(name string) bool
	// Connect logs in to the named HSM. Its errors wrap ErrHSMNotFound, ErrHSMCredentials,
	// ErrHSMLockedOut or ErrHSMUnreachable.
	Connect(ctx context.Context, name string) (HSMToken, error)
}

// HSMToken is a logged-in connection to one HSM, safe for concurrent use. Keys on it are
// named by label (Coffer labels each with its KMS key id) and never leave it.
type HSMToken interface {
	// GenerateKey makes a non-extractable AES-256 key labelled label.
	GenerateKey(ctx context.Context, label string) error
	// Seal encrypts with AES-GCM (96-bit iv, 128-bit tag appended) under the key labelled label.
	Seal(ctx context.Context, label string, iv, aad, plaintext []byte) ([]byte, error)
	// Open decrypts what Seal made (ErrHSMDecrypt when it does not authenticate).
	Open(ctx context.Context, label string, iv, aad, ciphertext []byte) ([]byte, error)
	// Random returns n random bytes from the HSM's generator.
	Random(ctx context.Context, n int) ([]byte, error)
	// DestroyKey destroys the key labelled label (ErrHSMKeyNotFound when there is none).
	DestroyKey(ctx context.Context, label string) error
	// Check asks the token whether it is still there and logged in, logging in again after a
	// reset; its errors are classified as Connect's.
	Check(ctx context.Context) error
	// Close logs out; the token's methods then fail with ErrHSMDisconnected.
	Close() error
}

// HSM error classes, which drivers wrap.
var (
	ErrHSMNotFound     = errors.New("kms: no such HSM or token")
	ErrHSMCredentials  = errors.New("kms: the HSM refused the crypto-user PIN")
	ErrHSMLockedOut    = errors.New("kms: the HSM crypto user is locked out")
	ErrHSMUnreachable  = errors.New("kms: the HSM cannot be reached")
	ErrHSMKeyNotFound  = errors.New("kms: the key is not in the HSM")
	ErrHSMDecrypt      = errors.New("kms: the HSM did not authenticate the ciphertext")
	ErrHSMDisconnected = errors.New("kms: the HSM connection is closed")
)

// Custom key store error classes (the wire layer names them as AWS does).
var (
	ErrCustomKeyStoreNotFound     = errors.New("custom key store not found")
	ErrCustomKeyStoreInvalidState = errors.New("custom key store invalid state")
	ErrCustomKeyStoreNameInUse    = errors.New("custom key store name in use")
	ErrCustomKeyStoreHasCMKs      = errors.New("custom key store has keys")
	ErrCloudHsmClusterNotFound    = errors.New("cloudhsm cluster not found")
	ErrCloudHsmClusterInUse       = errors.New("cloudhsm cluster in use")
	ErrCloudHsmClusterNotActive   = errors.New("cloudhsm cluster not active")
	ErrIncorrectTrustAnchor       = errors.New("incorrect trust anchor")
)

// connectionErrorCode is the ConnectionErrorCode AWS shows for a failed connection.
func connectionErrorCode(err error) string {
	switch {
	case errors.Is(err, ErrHSMCredentials):
		return "INVALID_CREDENTIALS"
	case errors.Is(err, ErrHSMLockedOut):
		return "USER_LOCKED_OUT"
	case errors.Is(err, ErrHSMNotFound):
		return "CLUSTER_NOT_FOUND"
	case errors.Is(err, ErrHSMUnreachable):
		return "NETWORK_ERRORS"
	}
	return "INTERNAL_ERROR"
}
