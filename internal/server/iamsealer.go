package server

import (
	"context"
	"fmt"
	"sync"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/secret"
)

// IAMKeyName names the service-owned KMS key that seals the secret access keys of IAM users,
// account roots and role sessions.
const IAMKeyName = "coffer/iam-credentials"

// ownedKey seals and opens secrets of Coffer's own with kms.EncryptOwned / DecryptOwned under
// the service-owned key name, made on first use. A sealed secret names the key version it was
// made with, so rotations keep it opening; the KMS keeps the key material in memory once used,
// so opening one costs an in-process AES-GCM open.
type ownedKey struct {
	kms  *kms.Service
	name string

	mu sync.Mutex
	id string // id of the service key, once known
}

func (o *ownedKey) key(ctx context.Context) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.id != "" {
		return o.id, nil
	}
	id, err := o.kms.OwnedKey(ctx, o.name)
	if err != nil {
		return "", fmt.Errorf("service key %s: %w", o.name, err)
	}
	o.id = id
	return id, nil
}

func (o *ownedKey) seal(ctx context.Context, plaintext []byte, ec map[string]string) ([]byte, error) {
	id, err := o.key(ctx)
	if err != nil {
		return nil, err
	}
	return o.kms.EncryptOwned(ctx, id, plaintext, ec)
}

// iamSealer adapts the KMS to iam.Sealer: secrets are sealed under the service-owned key
// IAMKeyName, bound to their access key id by the encryption context.
type iamSealer struct{ owned ownedKey }

func newIAMSealer(svc *kms.Service) *iamSealer {
	return &iamSealer{owned: ownedKey{kms: svc, name: IAMKeyName}}
}

var _ iam.Sealer = (*iamSealer)(nil)

// Seal implements iam.Sealer.
func (s *iamSealer) Seal(ctx context.Context, plaintext []byte, ec map[string]string) ([]byte, error) {
	return s.owned.seal(ctx, plaintext, ec)
}

// Open implements iam.Sealer.
func (s *iamSealer) Open(ctx context.Context, sealed []byte, ec map[string]string) (secret.Bytes, error) {
	raw, err := s.owned.kms.DecryptOwned(ctx, sealed, ec)
	if err != nil {
		return secret.Bytes{}, err
	}
	return secret.TakeBytes(raw), nil
}
