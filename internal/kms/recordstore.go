package kms

import (
	"context"
	"errors"
	"fmt"
)

// macStore is the Store the Service reads and writes through: it MACs every key, alias and
// grant record it writes and checks the MAC of every one it reads (SPEC.md §5), so that a
// record changed on disk is ErrStoreDamaged, never a different key, policy, alias target or
// grant. Reads happen on cache misses only (Service.load, the authorization index), never per
// request. Deletions, the canary and UpgradeRecords pass through to the backend.
type macStore struct {
	Store
	macs recordMACs
}

var _ Store = (*macStore)(nil)

func newMACStore(backend Store, root RootKey) *macStore {
	return &macStore{Store: backend, macs: recordMACs{root: root}}
}

// CreateKey MACs the key and its alias.
func (m *macStore) CreateKey(ctx context.Context, k *Key, alias *Alias, quota int) error {
	if err := m.macs.sealKey(ctx, k); err != nil {
		return err
	}
	if alias != nil {
		a := *alias
		if err := m.macs.sealAlias(ctx, &a); err != nil {
			return err
		}
		alias = &a
	}
	return m.Store.CreateKey(ctx, k, alias, quota)
}

// GetKey returns the key once its record verifies.
func (m *macStore) GetKey(ctx context.Context, id string) (*Key, error) {
	k, err := m.Store.GetKey(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := m.macs.verifyKey(ctx, k); err != nil {
		return nil, err
	}
	return k, nil
}

// UpdateKey verifies the stored record before fn sees it, in the same transaction, and MACs
// the result: an update never launders a changed record into a valid one.
func (m *macStore) UpdateKey(ctx context.Context, id string, fn func(*Key) error) (*Key, error) {
	return m.Store.UpdateKey(ctx, id, func(k *Key) error {
		if err := m.macs.verifyKey(ctx, k); err != nil {
			return err
		}
		account := k.Account
		if err := fn(k); err != nil {
			return err
		}
		// The backend keeps the identity of a key whatever fn did; the MAC covers what it stores.
		k.ID, k.Account = id, account
		return m.macs.sealKey(ctx, k)
	})
}

// ListKeys lists a key whose record does not verify with only ID and Account set, as the
// Store contract lists one that cannot be read.
func (m *macStore) ListKeys(ctx context.Context, account, after string, limit int) ([]*Key, error) {
	ks, err := m.Store.ListKeys(ctx, account, after, limit)
	for i, k := range ks {
		if m.macs.verifyKey(ctx, k) != nil {
			ks[i] = &Key{ID: k.ID, Account: k.Account}
		}
	}
	return ks, err
}

// ScanKeys skips a key whose record does not verify and reports it in the returned error
// after the others were seen.
func (m *macStore) ScanKeys(ctx context.Context, fn func(*Key) bool) error {
	var bad []error
	err := m.Store.ScanKeys(ctx, func(k *Key) bool {
		if err := m.macs.verifyKey(ctx, k); err != nil {
			bad = append(bad, err)
			return true
		}
		return fn(k)
	})
	return errors.Join(append([]error{err}, bad...)...)
}

// PutAlias MACs the alias.
func (m *macStore) PutAlias(ctx context.Context, a Alias, create bool) error {
	if err := m.macs.sealAlias(ctx, &a); err != nil {
		return err
	}
	return m.Store.PutAlias(ctx, a, create)
}

// GetAlias returns the alias once its record verifies and is the one asked for.
func (m *macStore) GetAlias(ctx context.Context, account, name string) (Alias, error) {
	a, err := m.Store.GetAlias(ctx, account, name)
	if err != nil {
		return Alias{}, err
	}
	if a.Account != account || a.Name != name {
		return Alias{}, fmt.Errorf("kms: alias %s: %w: the record names another alias", name, ErrStoreDamaged)
	}
	if err := m.macs.verifyAlias(ctx, &a); err != nil {
		return Alias{}, err
	}
	return a, nil
}

// ListAliases lists an alias whose record does not verify with only Account and Name set
// (KeyID empty), as the Store contract lists one that cannot be read.
func (m *macStore) ListAliases(ctx context.Context, account, after string, limit int) ([]Alias, error) {
	as, err := m.Store.ListAliases(ctx, account, after, limit)
	for i := range as {
		if as[i].KeyID != "" && m.macs.verifyAlias(ctx, &as[i]) != nil {
			as[i] = Alias{Account: as[i].Account, Name: as[i].Name}
		}
	}
	return as, err
}

// PutGrant MACs the grant.
func (m *macStore) PutGrant(ctx context.Context, g Grant) error {
	if err := m.macs.sealGrant(ctx, &g); err != nil {
		return err
	}
	return m.Store.PutGrant(ctx, g)
}

// ListGrants fails with ErrStoreDamaged when any grant of the key does not verify: what the
// key's grants allow is then unknown, so the key is unusable until the record is restored.
func (m *macStore) ListGrants(ctx context.Context, keyID string) ([]Grant, error) {
	gs, err := m.Store.ListGrants(ctx, keyID)
	if err != nil {
		return nil, err
	}
	for i := range gs {
		if gs[i].KeyID != keyID {
			return nil, fmt.Errorf("kms: grant %s of key %s: %w: the record names key %s", gs[i].GrantID, keyID, ErrStoreDamaged, gs[i].KeyID)
		}
		if err := m.macs.verifyGrant(ctx, &gs[i]); err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// ScanGrants skips a grant whose record does not verify and reports it in the returned error
// after the others were seen.
func (m *macStore) ScanGrants(ctx context.Context, fn func(Grant) bool) error {
	var bad []error
	err := m.Store.ScanGrants(ctx, func(g Grant) bool {
		if err := m.macs.verifyGrant(ctx, &g); err != nil {
			bad = append(bad, err)
			return true
		}
		return fn(g)
	})
	return errors.Join(append([]error{err}, bad...)...)
}
