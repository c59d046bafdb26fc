// Package objectkeys adapts the key service (internal/kms) to the narrow interface the object
// service declares (object.Keys), so the object layer never sees KMS key material or types.
package objectkeys

import (
	"context"
	"fmt"
	"sync"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
)

// ServiceKeyName names the service-owned KMS key that seals SSE-S3 object keys.
const ServiceKeyName = "coffer/sse-s3"

// Keys implements object.Keys over a kms.Service.
//
// SSE-S3 keys are sealed with kms.EncryptOwned under the service-owned key ServiceKeyName,
// which rotates automatically; each sealed key is a KMS ciphertext blob that names the key
// version it was made with, so every older object keeps opening after rotations. The KMS keeps
// the unsealed material of each key version in memory once used, so an SSE-S3 GET costs one
// in-process AES-GCM open and no store round trip.
type Keys struct {
	kms *kms.Service

	mu    sync.Mutex
	owned string // id of the service key, once known
}

var _ object.Keys = (*Keys)(nil)

// New returns Keys over svc.
func New(svc *kms.Service) *Keys { return &Keys{kms: svc} }

// serviceKey returns the id of the SSE-S3 service key, creating the key on first use.
func (k *Keys) serviceKey(ctx context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.owned != "" {
		return k.owned, nil
	}
	id, err := k.kms.OwnedKey(ctx, ServiceKeyName)
	if err != nil {
		return "", fmt.Errorf("objectkeys: SSE-S3 service key: %w", err)
	}
	k.owned = id
	return id, nil
}

// SealServiceKey implements object.Keys.
func (k *Keys) SealServiceKey(ctx context.Context, objectKey secret.Key, ec map[string]string) ([]byte, error) {
	id, err := k.serviceKey(ctx)
	if err != nil {
		return nil, err
	}
	return k.kms.EncryptOwned(ctx, id, objectKey.RevealBytes(), ec)
}

// UnsealServiceKey implements object.Keys.
func (k *Keys) UnsealServiceKey(ctx context.Context, sealed []byte, ec map[string]string) (secret.Key, error) {
	raw, err := k.kms.DecryptOwned(ctx, sealed, ec)
	if err != nil {
		return secret.Key{}, err
	}
	defer clear(raw) // best effort
	return secret.FromBytes(raw)
}

// DataKey implements object.Keys.
func (k *Keys) DataKey(ctx context.Context, c object.Caller, keyID string, ec map[string]string) (object.DataKey, error) {
	out, err := k.kms.GenerateDataKey(ctx, kms.Caller{Account: c.Account, ARN: c.ARN},
		kms.GenerateDataKeyInput{KeyId: keyID, KeySpec: "AES_256", EncryptionContext: ec})
	if err != nil {
		return object.DataKey{}, err
	}
	return object.DataKey{KeyARN: out.KeyId, Plaintext: secret.TakeBytes(out.Plaintext), Wrapped: out.CiphertextBlob}, nil
}

// Unwrap implements object.Keys.
func (k *Keys) Unwrap(ctx context.Context, c object.Caller, keyID string, wrapped []byte, ec map[string]string) (secret.Bytes, error) {
	out, err := k.kms.Decrypt(ctx, kms.Caller{Account: c.Account, ARN: c.ARN},
		kms.DecryptInput{CiphertextBlob: wrapped, KeyId: keyID, EncryptionContext: ec})
	if err != nil {
		return secret.Bytes{}, err
	}
	return secret.TakeBytes(out.Plaintext), nil
}
