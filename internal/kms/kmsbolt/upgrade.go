package kmsbolt

import (
	"bytes"
	"context"
	"fmt"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
	bolt "go.etcd.io/bbolt"
)

// UpgradeRecords implements kms.Store. Every readable record is in memory for the length of
// the call, which reads them only until the store has been brought to the format once.
func (s *Store) UpgradeRecords(_ context.Context, format int, fn func(*kms.Records) (bool, error)) error {
	var done bool
	if err := s.db.View(func(tx *bolt.Tx) error { done = upgradedTo(tx, format); return nil }); err != nil || done {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if upgradedTo(tx, format) {
			return nil
		}
		var recs kms.Records
		var keyIDs, aliasKeys, grantKeys [][]byte
		_ = tx.Bucket(bucketKeys).ForEach(func(k, v []byte) error {
			if key, err := kmsrec.DecodeKey(string(k), v); err == nil {
				recs.Keys = append(recs.Keys, key)
				keyIDs = append(keyIDs, bytes.Clone(k))
			}
			return nil
		})
		_ = tx.Bucket(bucketAliases).ForEach(func(k, v []byte) error {
			if a, err := decodeAlias(k, v); err == nil {
				recs.Aliases = append(recs.Aliases, a)
				aliasKeys = append(aliasKeys, bytes.Clone(k))
			}
			return nil
		})
		_ = tx.Bucket(bucketGrants).ForEach(func(k, v []byte) error {
			if g, err := decodeGrant(k, v); err == nil {
				recs.Grants = append(recs.Grants, g)
				grantKeys = append(grantKeys, bytes.Clone(k))
			}
			return nil
		})
		write, err := fn(&recs)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketRoot).Put(keyRecordFormat, kmsrec.EncodeFormat(format)); err != nil {
			return err
		}
		if !write {
			return nil
		}
		if len(recs.Keys) != len(keyIDs) || len(recs.Aliases) != len(aliasKeys) || len(recs.Grants) != len(grantKeys) {
			return fmt.Errorf("kmsbolt: upgrade: records were added or removed")
		}
		for i, k := range recs.Keys {
			if err := putUpgraded(tx.Bucket(bucketKeys), keyIDs[i], []byte(k.ID), k); err != nil {
				return err
			}
		}
		for i, a := range recs.Aliases {
			if err := putUpgraded(tx.Bucket(bucketAliases), aliasKeys[i], join(a.Account, a.Name), a); err != nil {
				return err
			}
		}
		for i, g := range recs.Grants {
			if err := putUpgraded(tx.Bucket(bucketGrants), grantKeys[i], join(g.KeyID, g.GrantID), g); err != nil {
				return err
			}
		}
		return nil
	})
}

// upgradedTo reports whether UpgradeRecords brought the store to format or a later one.
func upgradedTo(tx *bolt.Tx, format int) bool {
	b := tx.Bucket(bucketRoot)
	if b == nil {
		return false
	}
	stored, ok := kmsrec.DecodeFormat(b.Get(keyRecordFormat))
	return ok && stored >= format
}

// putUpgraded writes an upgraded record back under the key it was read from, which its
// identity must still name.
func putUpgraded[T *kms.Key | kms.Alias | kms.Grant](b *bolt.Bucket, was, is []byte, rec T) error {
	if !bytes.Equal(was, is) {
		return fmt.Errorf("kmsbolt: upgrade: record %q changed its identity to %q", was, is)
	}
	v, err := kmsrec.Encode(rec)
	if err != nil {
		return err
	}
	return b.Put(was, v)
}
