package kmsbolt

import (
	"context"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
	bolt "go.etcd.io/bbolt"
)

// PutKeyStore implements kms.Store.
func (s *Store) PutKeyStore(_ context.Context, ks kms.KeyStore, create bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKeyStores)
		exists := b.Get([]byte(ks.ID)) != nil
		switch {
		case create && exists:
			return kms.ErrStoreKeyExists
		case !create && !exists:
			return kms.ErrStoreNoSuchKeyStore
		}
		v, err := kmsrec.Encode(ks)
		if err != nil {
			return err
		}
		return b.Put([]byte(ks.ID), v)
	})
}

// GetKeyStore implements kms.Store.
func (s *Store) GetKeyStore(_ context.Context, id string) (kms.KeyStore, error) {
	var ks kms.KeyStore
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketKeyStores).Get([]byte(id))
		if v == nil {
			return kms.ErrStoreNoSuchKeyStore
		}
		var err error
		ks, err = kmsrec.DecodeKeyStore(id, v)
		return err
	})
	return ks, err
}

// DeleteKeyStore implements kms.Store.
func (s *Store) DeleteKeyStore(_ context.Context, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKeyStores)
		if b.Get([]byte(id)) == nil {
			return kms.ErrStoreNoSuchKeyStore
		}
		return b.Delete([]byte(id))
	})
}

// ListKeyStores implements kms.Store.
func (s *Store) ListKeyStores(_ context.Context) ([]kms.KeyStore, error) {
	var out []kms.KeyStore
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKeyStores).ForEach(func(k, v []byte) error {
			ks, err := kmsrec.DecodeKeyStore(string(k), v)
			if err != nil {
				return err
			}
			out = append(out, ks)
			return nil
		})
	})
	return out, err
}
