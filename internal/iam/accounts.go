package iam

import (
	"context"
	"errors"
	"fmt"
)

// CreateAccount adds an account (a random id when a.ID is "") with a root access key, which is
// returned with its secret: shown once, stored only sealed.
func (s *Service) CreateAccount(ctx context.Context, a Account) (Account, NewAccessKey, error) {
	if a.ID == "" {
		a.ID = NewAccountID()
	}
	if !ValidAccountID(a.ID) {
		return Account{}, NewAccessKey{}, errorf(ErrValidation, "account id "+a.ID+" is not 12 digits")
	}
	if a.DisplayName == "" {
		a.DisplayName = a.ID
	}
	if err := s.store.CreateAccount(ctx, a); err != nil {
		if errors.Is(err, ErrEntityExists) {
			return Account{}, NewAccessKey{}, errorf(ErrEntityExists, "account "+a.ID+" already exists")
		}
		return Account{}, NewAccessKey{}, err
	}
	k, err := s.CreateAccessKey(ctx, a.ID, "")
	if err != nil {
		return Account{}, NewAccessKey{}, fmt.Errorf("iam: root key of account %s: %w", a.ID, err)
	}
	s.invalidate(ctx)
	return a, k, nil
}

// ListAccounts returns every account.
func (s *Service) ListAccounts(ctx context.Context) ([]Account, error) {
	return s.store.ListAccounts(ctx)
}
