package kms

import (
	"context"
	"time"
)

// KeyStore is a custom key store record: a named connection from an account to one of the
// configured HSMs (SPEC.md §6). Whether it is connected now is not stored; Connect is what the
// owner last asked for, so that a restarted server connects the stores that were connected.
type KeyStore struct {
	ID          string // cks- and 17 hexadecimal digits
	Account     string
	Name        string
	Type        string // AWS_CLOUDHSM
	ClusterID   string // the configured HSM's name
	TrustAnchor string // the PEM certificate given at creation, returned as given
	Created     time.Time
	Connect     bool
	// RecordFormat and MAC make the record tamper-evident (SPEC.md §5).
	RecordFormat int
	MAC          []byte
}

// encodeKeyStore is the canonical encoding of every field of a key store record but its MAC.
func encodeKeyStore(ks *KeyStore) []byte {
	e := newRecordEncoder(recordStore, ks.RecordFormat)
	e.string(ks.ID)
	e.string(ks.Account)
	e.string(ks.Name)
	e.string(ks.Type)
	e.string(ks.ClusterID)
	e.string(ks.TrustAnchor)
	e.time(ks.Created)
	e.bool(ks.Connect)
	return e.b
}

// PutKeyStore MACs the record.
func (m *macStore) PutKeyStore(ctx context.Context, ks KeyStore, create bool) error {
	if err := m.macs.seal(ctx, &ks.RecordFormat, &ks.MAC, func() []byte { return encodeKeyStore(&ks) }); err != nil {
		return err
	}
	return m.Store.PutKeyStore(ctx, ks, create)
}

// GetKeyStore returns the record once it verifies and is the one asked for.
func (m *macStore) GetKeyStore(ctx context.Context, id string) (KeyStore, error) {
	ks, err := m.Store.GetKeyStore(ctx, id)
	if err != nil {
		return KeyStore{}, err
	}
	if err := m.verifyKeyStore(ctx, id, &ks); err != nil {
		return KeyStore{}, err
	}
	return ks, nil
}

// ListKeyStores fails when any record does not verify: which HSM a store names is then
// unknown.
func (m *macStore) ListKeyStores(ctx context.Context) ([]KeyStore, error) {
	all, err := m.Store.ListKeyStores(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if err := m.verifyKeyStore(ctx, all[i].ID, &all[i]); err != nil {
			return nil, err
		}
	}
	return all, nil
}

func (m *macStore) verifyKeyStore(ctx context.Context, id string, ks *KeyStore) error {
	ks.ID = id // when the record names another store, the MAC then fails
	return m.macs.verify(ctx, "custom key store "+id, ks.RecordFormat, ks.MAC, encodeKeyStore(ks))
}
