package kms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

const maxAliasesPerKey = 50

// validAliasName reports whether name matches AWS's alias pattern and length.
func validAliasName(name string) bool {
	if len(name) < 1 || len(name) > 256 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '/' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// checkAliasName validates an alias name a customer may create, update or delete.
func checkAliasName(name string) error {
	if !strings.HasPrefix(name, "alias/") {
		return errValidation(`Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`)
	}
	if !validAliasName(name) || name == "alias/" {
		return errf(ErrValidation, "1 validation error detected: Value '%s' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$", name)
	}
	if strings.HasPrefix(name, managedAliasPrefix) {
		return &Error{Kind: ErrNotAuthorized}
	}
	return nil
}

// aliasTarget resolves and checks the key an alias is to point at.
func (s *Service) aliasTarget(ctx context.Context, c Caller, target, opName string) (*entry, error) {
	e, err := s.resolve(ctx, c, target, optsKeyOnly, askFor(opName))
	if err != nil {
		return nil, err
	}
	if e.key.Manager == ManagerAWS {
		return nil, s.denied(c, e.key, opName)
	}
	if err := s.checkState(e.key, opCreateAlias); err != nil {
		return nil, err
	}
	return e, nil
}

// ownAlias returns an alias of the caller's account and the key it names (nil when that key
// is gone), once op is authorized on the alias (identity policies) and on the key (its key
// policy): AWS's rule for UpdateAlias and DeleteAlias.
func (s *Service) ownAlias(ctx context.Context, c Caller, name, op string) (Alias, *entry, error) {
	if err := s.authorizeIdentity(c, op, s.aliasARN(c.Account, name), nil); err != nil {
		return Alias{}, nil, err
	}
	a, err := s.store.GetAlias(ctx, c.Account, name)
	if errors.Is(err, ErrStoreNoSuchAlias) {
		return Alias{}, nil, errf(ErrNotFound, "Alias %s is not found.", s.aliasARN(c.Account, name))
	}
	if err != nil {
		return Alias{}, nil, s.internal("get alias", err)
	}
	e, err := s.load(ctx, a.KeyID)
	if err != nil {
		return a, nil, nil
	}
	if err := s.authorize(ctx, c, e, askFor(op)); err != nil {
		return Alias{}, nil, err
	}
	return a, e, nil
}

func (s *Service) countAliases(ctx context.Context, account, keyID string) (int, error) {
	all, err := s.store.ListAliases(ctx, account, "", 0)
	n := 0
	for _, a := range all {
		if a.KeyID == keyID {
			n++
		}
	}
	return n, err
}

// CreateAlias creates an alias in the caller's account for a customer managed key.
func (s *Service) CreateAlias(ctx context.Context, c Caller, name, target string) error {
	if err := checkAliasName(name); err != nil {
		return err
	}
	if err := s.authorizeIdentity(c, "CreateAlias", s.aliasARN(c.Account, name), nil); err != nil {
		return err
	}
	e, err := s.aliasTarget(ctx, c, target, "CreateAlias")
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	n, err := s.countAliases(ctx, c.Account, e.key.ID)
	if err != nil {
		return s.internal("count aliases", err)
	}
	if n >= maxAliasesPerKey {
		return errf(ErrLimitExceeded, "The number of aliases for %s exceeds the limit of 50.", s.arn(e.key))
	}
	now := s.now().UTC()
	err = s.store.PutAlias(ctx, Alias{Account: c.Account, Name: name, KeyID: e.key.ID, Created: now, Updated: now}, true)
	s.aliasesChanged(ctx, c.Account)
	switch {
	case errors.Is(err, ErrStoreAliasExists):
		return errf(ErrAlreadyExists, "An alias with the name %s already exists", s.aliasARN(c.Account, name))
	case errors.Is(err, ErrStoreAliasNoTarget):
		return errf(ErrNotFound, "Key '%s' does not exist", s.arn(e.key))
	case err != nil:
		return s.internal("create alias", err)
	}
	return nil
}

// UpdateAlias points an existing alias at another key of the same type.
func (s *Service) UpdateAlias(ctx context.Context, c Caller, name, target string) error {
	if err := checkAliasName(name); err != nil {
		return err
	}
	old, cur, err := s.ownAlias(ctx, c, name, "UpdateAlias")
	if err != nil {
		return err
	}
	e, err := s.aliasTarget(ctx, c, target, "UpdateAlias")
	if err != nil {
		return err
	}
	if cur != nil && (cur.key.Usage != e.key.Usage || (cur.key.Spec == SpecSymmetric) != (e.key.Spec == SpecSymmetric)) {
		return errValidation("%s is not the same type of key as the current alias target.", s.arn(e.key))
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	old.KeyID, old.Updated = e.key.ID, s.now().UTC()
	defer s.aliasesChanged(ctx, c.Account)
	if err := s.store.PutAlias(ctx, old, false); err != nil {
		return s.storeErr("update alias", err)
	}
	return nil
}

// DeleteAlias removes an alias; the key is unaffected.
func (s *Service) DeleteAlias(ctx context.Context, c Caller, name string) error {
	if err := checkAliasName(name); err != nil {
		return err
	}
	if _, _, err := s.ownAlias(ctx, c, name, "DeleteAlias"); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	defer s.aliasesChanged(ctx, c.Account)
	err := s.store.DeleteAlias(ctx, c.Account, name)
	if errors.Is(err, ErrStoreNoSuchAlias) {
		return errf(ErrNotFound, "Alias %s is not found.", s.aliasARN(c.Account, name))
	}
	if err != nil {
		return s.internal("delete alias", err)
	}
	return nil
}

// AliasListEntry is one ListAliases result.
type AliasListEntry struct {
	AliasName       string
	AliasArn        string
	TargetKeyId     string
	CreationDate    time.Time
	LastUpdatedDate time.Time
}

// ListAliases lists the caller's aliases by name, only those of keyID when it is not empty.
func (s *Service) ListAliases(ctx context.Context, c Caller, keyID string, p Page) ([]AliasListEntry, string, error) {
	limit, err := p.limit(50)
	if err != nil {
		return nil, "", err
	}
	filter := ""
	if keyID != "" {
		e, err := s.resolve(ctx, c, keyID, optsKeyOnly, askFor("ListAliases"))
		if err != nil {
			return nil, "", err
		}
		filter = e.key.ID
	} else if err := s.authorizeIdentity(c, "ListAliases", "*", nil); err != nil {
		return nil, "", err
	}
	scope := c.Account + "\x00" + filter
	after, err := s.markerAfter(ctx, listAliases, scope, p.Marker)
	if err != nil {
		return nil, "", err
	}
	// Without a key filter a page needs limit aliases and one more to know there is a next
	// page; with one, the store cannot tell which aliases match and lists them all.
	n := 0
	if filter == "" {
		n = limit + 1
	}
	all, err := s.store.ListAliases(ctx, c.Account, after, n)
	if err != nil {
		return nil, "", s.internal("list aliases", err)
	}
	var out []AliasListEntry
	next := ""
	for _, a := range all {
		if a.KeyID == "" {
			return nil, "", s.internal("list aliases", fmt.Errorf("alias %s: %w", a.Name, ErrStoreDamaged))
		}
		if filter != "" && a.KeyID != filter {
			continue
		}
		if len(out) == limit {
			if next, err = s.newMarker(ctx, listAliases, scope, out[len(out)-1].AliasName); err != nil {
				return nil, "", err
			}
			break
		}
		out = append(out, AliasListEntry{AliasName: a.Name, AliasArn: s.aliasARN(c.Account, a.Name),
			TargetKeyId: a.KeyID, CreationDate: a.Created, LastUpdatedDate: a.Updated})
	}
	return out, next, nil
}
