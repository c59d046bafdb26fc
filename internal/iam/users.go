package iam

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/coffer/coffer/internal/policy"
)

// MaxAccessKeys is how many access keys a user (or an account root) may have, as in IAM.
const MaxAccessKeys = 2

// checkNamePath validates the name and path of a new user, role or policy.
func checkNamePath(what, name, path string, max int) (string, error) {
	if !validName(name, max) {
		return "", errorf(ErrValidation, fmt.Sprintf("The specified value for %sName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_- and be 1 to %d characters long.", what, max))
	}
	if path == "" {
		path = "/"
	}
	if !validPath(path) {
		return "", errorf(ErrValidation, "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return path, nil
}

// CreateUser creates a user of account with tags (none: nil).
func (s *Service) CreateUser(ctx context.Context, account, name, path string, tags []Tag) (User, error) {
	path, err := checkNamePath("user", name, path, 64)
	if err != nil {
		return User{}, err
	}
	if err := checkTags(tags); err != nil {
		return User{}, err
	}
	u := User{Account: account, Name: name, Path: path, ID: newID(userIDPrefix), Created: s.now().UTC().Truncate(1e9), Tags: tags}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, ErrEntityExists) {
			return User{}, errorf(ErrEntityExists, "User with name "+name+" already exists.")
		}
		return User{}, err
	}
	return u, nil
}

// GetUser returns a user of account.
func (s *Service) GetUser(ctx context.Context, account, name string) (User, error) {
	u, err := s.store.GetUser(ctx, account, name)
	return u, noSuchUser(err, name)
}

// UpdateUser moves a user to newPath ("" keeps it). Renaming (newName other than the name,
// ignoring case) is not supported: it fails with ErrNotSupported.
func (s *Service) UpdateUser(ctx context.Context, account, name, newName, newPath string) (User, error) {
	if newName != "" && !strings.EqualFold(newName, name) {
		return User{}, errorf(ErrNotSupported, "Renaming a user is not supported.")
	}
	if newPath != "" && !validPath(newPath) {
		_, err := checkNamePath("user", name, newPath, 64)
		return User{}, err
	}
	u, err := s.store.UpdateUser(ctx, account, name, func(u *User) error {
		if newPath != "" {
			u.Path = newPath
		}
		return nil
	})
	s.invalidate(ctx) // the ARN of the user's principal changes with its path
	return u, noSuchUser(err, name)
}

func noSuchUser(err error, name string) error {
	if errors.Is(err, ErrNoSuchEntity) {
		return errorf(ErrNoSuchEntity, "The user with name "+name+" cannot be found.")
	}
	return err
}

// ListUsers returns the users of account under pathPrefix ("" for all).
func (s *Service) ListUsers(ctx context.Context, account, pathPrefix string) ([]User, error) {
	us, err := s.store.ListUsers(ctx, account)
	if err != nil {
		return nil, err
	}
	out := us[:0]
	for _, u := range us {
		if hasPathPrefix(u.Path, pathPrefix) {
			out = append(out, u)
		}
	}
	return out, nil
}

func hasPathPrefix(path, prefix string) bool {
	return len(path) >= len(prefix) && path[:len(prefix)] == prefix
}

// DeleteUser deletes a user that has no access keys and no policies left.
func (s *Service) DeleteUser(ctx context.Context, account, name string) error {
	err := s.store.DeleteUser(ctx, account, name)
	if errors.Is(err, ErrDeleteConflict) {
		keys, _ := s.store.ListAccessKeys(ctx, account, name)
		msg := "Cannot delete entity, must delete policies first."
		if len(keys) > 0 {
			msg = "Cannot delete entity, must delete access keys first."
		} else if inl, _ := s.store.ListInlinePolicies(ctx, Entity{KindUser, account, name}); len(inl) == 0 {
			msg = "Cannot delete entity, must detach all policies first."
		}
		return errorf(ErrDeleteConflict, msg)
	}
	s.invalidate(ctx)
	return noSuchUser(err, name)
}

// NewAccessKey is a freshly made access key with its secret, shown once.
type NewAccessKey struct {
	AccessKey
	Secret string
}

// CreateAccessKey makes an access key for a user of account ("" for the account root).
func (s *Service) CreateAccessKey(ctx context.Context, account, user string) (NewAccessKey, error) {
	k := AccessKey{ID: newAccessKeyID(accessKeyPrefix), Account: account, UserName: user, Status: StatusActive,
		Created: s.now().UTC().Truncate(1e9)}
	sec := newSecret()
	defer clear(sec)
	sealed, err := s.sealer.Seal(ctx, sec, sealContext(k.ID))
	if err != nil {
		return NewAccessKey{}, fmt.Errorf("iam: sealing a secret key: %w", err)
	}
	k.SealedSecret = sealed
	if err := s.store.CreateAccessKey(ctx, k, MaxAccessKeys); err != nil {
		switch {
		case errors.Is(err, ErrLimitExceeded):
			return NewAccessKey{}, errorf(ErrLimitExceeded, fmt.Sprintf("Cannot exceed quota for AccessKeysPerUser: %d", MaxAccessKeys))
		case errors.Is(err, ErrNoSuchEntity):
			return NewAccessKey{}, noSuchUser(err, user)
		}
		return NewAccessKey{}, err
	}
	if user != "" {
		if u, err := s.store.GetUser(ctx, account, user); err == nil {
			k.UserName = u.Name
		}
	}
	return NewAccessKey{AccessKey: k, Secret: string(sec)}, nil
}

// AccessKey returns an access key of account by id, without its sealed secret.
func (s *Service) AccessKey(ctx context.Context, account, id string) (AccessKey, error) {
	k, err := s.store.GetAccessKey(ctx, id)
	if err == nil && k.Account != account {
		err = ErrNoSuchEntity
	}
	k.SealedSecret = nil
	return k, noSuchKey(err, id)
}

// ListAccessKeys returns the access keys of a user of account ("" for the account root).
func (s *Service) ListAccessKeys(ctx context.Context, account, user string) ([]AccessKey, error) {
	ks, err := s.store.ListAccessKeys(ctx, account, user)
	return ks, noSuchUser(err, user)
}

// UpdateAccessKey sets the status of an access key of a user ("" for the account root).
func (s *Service) UpdateAccessKey(ctx context.Context, account, user, id, status string) error {
	if status != StatusActive && status != StatusInactive {
		return errorf(ErrValidation, "1 validation error detected: Value '"+status+"' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]")
	}
	if err := s.checkUser(ctx, account, user); err != nil {
		return err
	}
	err := s.store.SetAccessKeyStatus(ctx, account, user, id, status)
	s.invalidate(ctx)
	return noSuchKey(err, id)
}

// DeleteAccessKey deletes an access key of a user ("" for the account root).
func (s *Service) DeleteAccessKey(ctx context.Context, account, user, id string) error {
	if err := s.checkUser(ctx, account, user); err != nil {
		return err
	}
	err := s.store.DeleteAccessKey(ctx, account, user, id)
	s.invalidate(ctx)
	return noSuchKey(err, id)
}

func (s *Service) checkUser(ctx context.Context, account, user string) error {
	if user == "" {
		return nil
	}
	_, err := s.GetUser(ctx, account, user)
	return err
}

func noSuchKey(err error, id string) error {
	if errors.Is(err, ErrNoSuchEntity) {
		return errorf(ErrNoSuchEntity, "The Access Key with id "+id+" cannot be found.")
	}
	return err
}

// parseIdentityDocument validates an identity-based policy document.
func parseIdentityDocument(doc string) error {
	return parseDocument(doc, policy.IdentityKind)
}

func parseDocument(doc string, kind policy.Kind) error {
	if _, err := policy.Parse(doc, kind); err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return errorf(ErrMalformed, pe.Message)
		}
		return errorf(ErrMalformed, "Syntax errors in policy.")
	}
	return nil
}

func (e Entity) noun() string {
	if e.Kind == KindRole {
		return "role"
	}
	return "user"
}

func (s *Service) noSuchEntity(err error, e Entity) error {
	if errors.Is(err, ErrNoSuchEntity) {
		return errorf(ErrNoSuchEntity, "The "+e.noun()+" with name "+e.Name+" cannot be found.")
	}
	return err
}

// PutInlinePolicy creates or replaces an inline policy of a user or role.
func (s *Service) PutInlinePolicy(ctx context.Context, e Entity, name, doc string) error {
	if !validName(name, 128) {
		return errorf(ErrValidation, "The specified value for policyName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_- and be 1 to 128 characters long.")
	}
	if err := parseIdentityDocument(doc); err != nil {
		return err
	}
	if err := s.checkInlineSize(ctx, e, name, doc); err != nil {
		return err
	}
	err := s.store.PutInlinePolicy(ctx, e, InlinePolicy{Name: name, Document: doc})
	s.invalidate(ctx)
	return s.noSuchEntity(err, e)
}

// GetInlinePolicy returns an inline policy of a user or role.
func (s *Service) GetInlinePolicy(ctx context.Context, e Entity, name string) (InlinePolicy, error) {
	if _, err := s.store.ListInlinePolicies(ctx, e); err != nil {
		return InlinePolicy{}, s.noSuchEntity(err, e)
	}
	p, err := s.store.GetInlinePolicy(ctx, e, name)
	if errors.Is(err, ErrNoSuchEntity) {
		return p, errorf(ErrNoSuchEntity, "The "+e.noun()+" policy with name "+name+" cannot be found.")
	}
	return p, err
}

// ListInlinePolicies returns the names of the inline policies of a user or role, sorted.
func (s *Service) ListInlinePolicies(ctx context.Context, e Entity) ([]string, error) {
	ps, err := s.store.ListInlinePolicies(ctx, e)
	if err != nil {
		return nil, s.noSuchEntity(err, e)
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	sort.Strings(names)
	return names, nil
}

// DeleteInlinePolicy deletes an inline policy of a user or role.
func (s *Service) DeleteInlinePolicy(ctx context.Context, e Entity, name string) error {
	if _, err := s.store.ListInlinePolicies(ctx, e); err != nil {
		return s.noSuchEntity(err, e)
	}
	err := s.store.DeleteInlinePolicy(ctx, e, name)
	s.invalidate(ctx)
	if errors.Is(err, ErrNoSuchEntity) {
		return errorf(ErrNoSuchEntity, "The "+e.noun()+" policy with name "+name+" cannot be found.")
	}
	return err
}
