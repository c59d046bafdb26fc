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

// iamSealer adapts the KMS to iam.Sealer: secrets are sealed with kms.EncryptOwned under the
// service-owned key IAMKeyName, bound to their access key id by the encryption context. A sealed
// secret names the key version it was made with, so rotations keep it opening; the KMS keeps
// the key material in memory once used, so opening one costs an in-process AES-GCM open.
type iamSealer struct {
	kms *kms.Service

	mu sync.Mutex
	id string // id of the service key, once known
}

var _ iam.Sealer = (*iamSealer)(nil)

func (s *iamSealer) key(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.id != "" {
		return s.id, nil
	}
	id, err := s.kms.OwnedKey(ctx, IAMKeyName)
	if err != nil {
		return "", fmt.Errorf("iam credentials key: %w", err)
	}
	s.id = id
	return id, nil
}

// Seal implements iam.Sealer.
func (s *iamSealer) Seal(ctx context.Context, plaintext []byte, ec map[string]string) ([]byte, error) {
	id, err := s.key(ctx)
	if err != nil {
		return nil, err
	}
	return s.kms.EncryptOwned(ctx, id, plaintext, ec)
}

// Open implements iam.Sealer.
func (s *iamSealer) Open(ctx context.Context, sealed []byte, ec map[string]string) (secret.Bytes, error) {
	raw, err := s.kms.DecryptOwned(ctx, sealed, ec)
	if err != nil {
		return secret.Bytes{}, err
	}
	return secret.TakeBytes(raw), nil
}
