package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/coffer/coffer/internal/secret"
)

// ImportRootKey stores a root access key of an account that was made outside the service (the
// default account's key of a credentials.json written before secret keys were sealed), sealed
// like every other key. The key already exists, so the limit of MaxAccessKeys does not apply.
//
// It may be repeated: a key already stored for the account root with the same secret is left
// as it is, so an import whose caller stopped before its next step (removing the plaintext) is
// simply done again. An id stored for another principal or with another secret fails with
// ErrEntityExists, and nothing is changed.
func (s *Service) ImportRootKey(ctx context.Context, account, id string, sec secret.Bytes) error {
	if id == "" || sec.IsZero() {
		return errorf(ErrValidation, "a root key needs an access key id and a secret")
	}
	switch old, err := s.store.GetAccessKey(ctx, id); {
	case err == nil:
		return s.checkImported(ctx, old, account, sec)
	case !errors.Is(err, ErrNoSuchEntity):
		return err
	}
	sealed, err := s.sealer.Seal(ctx, sec.RevealBytes(), sealContext(id))
	if err != nil {
		return fmt.Errorf("iam: sealing a secret key: %w", err)
	}
	k := AccessKey{ID: id, Account: account, Status: StatusActive, Created: s.now().UTC().Truncate(1e9), SealedSecret: sealed}
	if err := s.store.CreateAccessKey(ctx, k, 0); err != nil {
		return fmt.Errorf("iam: root key %s of account %s: %w", id, account, err)
	}
	s.invalidate(ctx)
	return nil
}

// checkImported accepts a key already stored by an earlier ImportRootKey of the same key.
func (s *Service) checkImported(ctx context.Context, old AccessKey, account string, sec secret.Bytes) error {
	if old.Account != account || old.UserName != "" {
		return errorf(ErrEntityExists, "access key "+old.ID+" belongs to another principal")
	}
	stored, err := s.sealer.Open(ctx, old.SealedSecret, sealContext(old.ID))
	if err != nil {
		return fmt.Errorf("iam: opening the secret of access key %s: %w", old.ID, err)
	}
	defer stored.Destroy()
	if !stored.Equal(sec) {
		return errorf(ErrEntityExists, "access key "+old.ID+" is stored with another secret")
	}
	return nil
}
