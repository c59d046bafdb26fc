// Package kmsbolt is the go.etcd.io/bbolt Store of package kms. It shares a *bbolt.DB with
// other users of the file and keeps to top-level buckets whose names start with "kms.".
package kmsbolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
	bolt "go.etcd.io/bbolt"
)

var (
	bucketKeys      = []byte("kms.keys")      // key id → JSON Key
	bucketByAccount = []byte("kms.keys.acct") // account 0x00 key id → empty
	bucketAliases   = []byte("kms.aliases")   // account 0x00 alias name → JSON Alias
	bucketGrants    = []byte("kms.grants")    // key id 0x00 grant id → JSON Grant
	bucketRoot      = []byte("kms.root")      // "canary" → the sealed root-key canary
	bucketKeyStores = []byte("kms.keystores") // custom key store id → JSON KeyStore
	// bucketKeyCount holds, per account, how many customer managed keys it has: account →
	// 8-byte big-endian count (keycount.go).
	bucketKeyCount = []byte("kms.keys.count")
	allBuckets     = [][]byte{bucketKeys, bucketByAccount, bucketAliases, bucketGrants, bucketRoot, bucketUsage, bucketKeyStores, bucketKeyCount}

	keyCanary = []byte("canary")
	// keyRecordFormat names the record format UpgradeRecords last brought the store to.
	keyRecordFormat = []byte("record-format")
)

// TopBuckets names the top-level buckets the store keeps, for the file's format record.
func TopBuckets() []string {
	out := make([]string, len(allBuckets))
	for i, b := range allBuckets {
		out[i] = string(b)
	}
	return out
}

// Store is a kms.Store on a bbolt database.
type Store struct {
	db *bolt.DB
}

var _ kms.Store = (*Store)(nil)

// New creates the store's buckets in db if needed (a server opens db with package boltfile
// first, which refuses a file whose buckets are not all there). On a read-only db it creates
// nothing, for inspection. The caller owns db and closes it.
func New(db *bolt.DB) (*Store, error) {
	if db.IsReadOnly() {
		return &Store{db: db}, nil
	}
	if err := boltfile.CreateBuckets(db, TopBuckets()); err != nil {
		return nil, fmt.Errorf("kmsbolt: creating buckets: %w", err)
	}
	return &Store{db: db}, nil
}

func join(a, b string) []byte {
	k := make([]byte, 0, len(a)+1+len(b))
	k = append(k, a...)
	k = append(k, 0)
	return append(k, b...)
}

// decodeAlias decodes the alias stored under k (account 0x00 name).
func decodeAlias(k, v []byte) (kms.Alias, error) {
	account, name, _ := bytes.Cut(k, []byte{0})
	return kmsrec.DecodeAlias(string(account), string(name), v)
}

// decodeGrant decodes the grant stored under k (key id 0x00 grant id).
func decodeGrant(k, v []byte) (kms.Grant, error) {
	keyID, grantID, _ := bytes.Cut(k, []byte{0})
	return kmsrec.DecodeGrant(string(keyID), string(grantID), v)
}

func getKey(tx *bolt.Tx, id string) (*kms.Key, error) {
	v := tx.Bucket(bucketKeys).Get([]byte(id))
	if v == nil {
		return nil, kms.ErrStoreNoSuchKey
	}
	return kmsrec.DecodeKey(id, v)
}

func putKey(tx *bolt.Tx, k *kms.Key) error {
	v, err := kmsrec.Encode(k)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketKeys).Put([]byte(k.ID), v); err != nil {
		return err
	}
	return tx.Bucket(bucketByAccount).Put(join(k.Account, k.ID), nil)
}

// CreateKey implements kms.Store.
func (s *Store) CreateKey(_ context.Context, k *kms.Key, alias *kms.Alias, quota int) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketKeys).Get([]byte(k.ID)) != nil {
			return kms.ErrStoreKeyExists
		}
		if counted(k) {
			if err := addKeyCount(tx, k.Account, quota); err != nil {
				return err
			}
		}
		if err := putKey(tx, k); err != nil {
			return err
		}
		if alias == nil {
			return nil
		}
		return putAlias(tx, *alias, true)
	})
}

// GetKey implements kms.Store.
func (s *Store) GetKey(_ context.Context, id string) (*kms.Key, error) {
	var k *kms.Key
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		k, err = getKey(tx, id)
		return err
	})
	return k, err
}

// UpdateKey implements kms.Store.
func (s *Store) UpdateKey(_ context.Context, id string, fn func(*kms.Key) error) (*kms.Key, error) {
	var k *kms.Key
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if k, err = getKey(tx, id); err != nil {
			return err
		}
		account := k.Account
		if err := fn(k); err != nil {
			return err
		}
		k.ID, k.Account = id, account // the identity of a key never changes
		return putKey(tx, k)
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// DeleteKey implements kms.Store.
func (s *Store) DeleteKey(_ context.Context, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		k, err := getKey(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketKeys).Delete([]byte(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketByAccount).Delete(join(k.Account, id)); err != nil {
			return err
		}
		if counted(k) {
			if err := dropKeyCount(tx, k.Account); err != nil {
				return err
			}
		}
		if err := deleteAliasesOf(tx, k.Account, id); err != nil {
			return err
		}
		if err := tx.Bucket(bucketUsage).Delete([]byte(id)); err != nil {
			return err
		}
		return deletePrefix(tx.Bucket(bucketGrants), join(id, ""))
	})
}

func deleteAliasesOf(tx *bolt.Tx, account, keyID string) error {
	b := tx.Bucket(bucketAliases)
	prefix := join(account, "")
	var doomed [][]byte
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		// A damaged alias is left for the admin check: it cannot stop deleting a key.
		if a, err := decodeAlias(k, v); err == nil && a.KeyID == keyID {
			doomed = append(doomed, append([]byte(nil), k...))
		}
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	var doomed [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		doomed = append(doomed, append([]byte(nil), k...))
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ListKeys implements kms.Store.
func (s *Store) ListKeys(_ context.Context, account, after string, limit int) ([]*kms.Key, error) {
	var out []*kms.Key
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := join(account, "")
		c := tx.Bucket(bucketByAccount).Cursor()
		k, _ := c.Seek(join(account, after))
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := string(k[len(prefix):])
			if id <= after {
				continue
			}
			if limit > 0 && len(out) >= limit {
				break
			}
			key, err := getKey(tx, id)
			switch {
			case errors.Is(err, kms.ErrStoreDamaged), err == nil && key.Account != account:
				// The record, or the index entry naming another account's key, is damaged.
				key = &kms.Key{ID: id, Account: account}
			case err != nil:
				return err
			}
			out = append(out, key)
		}
		return nil
	})
	return out, err
}

// ScanKeys implements kms.Store.
func (s *Store) ScanKeys(_ context.Context, fn func(*kms.Key) bool) error {
	var bad []error
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketKeys).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			key, err := kmsrec.DecodeKey(string(k), v)
			if err != nil {
				// One damaged record must not hide the others from the scheduler.
				bad = append(bad, err)
				continue
			}
			if !fn(key) {
				return nil
			}
		}
		return nil
	})
	return errors.Join(append([]error{err}, bad...)...)
}

// PutAlias implements kms.Store.
func (s *Store) PutAlias(_ context.Context, a kms.Alias, create bool) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putAlias(tx, a, create) })
}

func putAlias(tx *bolt.Tx, a kms.Alias, create bool) error {
	b := tx.Bucket(bucketAliases)
	k := join(a.Account, a.Name)
	old := b.Get(k)
	if create && old != nil {
		return kms.ErrStoreAliasExists
	}
	if !create && old == nil {
		return kms.ErrStoreNoSuchAlias
	}
	if tx.Bucket(bucketKeys).Get([]byte(a.KeyID)) == nil {
		return kms.ErrStoreAliasNoTarget
	}
	v, err := kmsrec.Encode(a)
	if err != nil {
		return err
	}
	return b.Put(k, v)
}

// GetAlias implements kms.Store.
func (s *Store) GetAlias(_ context.Context, account, name string) (kms.Alias, error) {
	var a kms.Alias
	err := s.db.View(func(tx *bolt.Tx) error {
		k := join(account, name)
		v := tx.Bucket(bucketAliases).Get(k)
		if v == nil {
			return kms.ErrStoreNoSuchAlias
		}
		var err error
		a, err = decodeAlias(k, v)
		return err
	})
	return a, err
}

// DeleteAlias implements kms.Store.
func (s *Store) DeleteAlias(_ context.Context, account, name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAliases)
		k := join(account, name)
		if b.Get(k) == nil {
			return kms.ErrStoreNoSuchAlias
		}
		return b.Delete(k)
	})
}

// ListAliases implements kms.Store.
func (s *Store) ListAliases(_ context.Context, account, after string, limit int) ([]kms.Alias, error) {
	var out []kms.Alias
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := join(account, "")
		c := tx.Bucket(bucketAliases).Cursor()
		for k, v := c.Seek(join(account, after)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if string(k[len(prefix):]) <= after {
				continue
			}
			if limit > 0 && len(out) >= limit {
				break
			}
			a, err := decodeAlias(k, v)
			if err != nil {
				a = kms.Alias{Account: account, Name: string(k[len(prefix):])}
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// PutGrant implements kms.Store.
func (s *Store) PutGrant(_ context.Context, g kms.Grant) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketKeys).Get([]byte(g.KeyID)) == nil {
			return kms.ErrStoreNoSuchKey
		}
		v, err := kmsrec.Encode(g)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketGrants).Put(join(g.KeyID, g.GrantID), v)
	})
}

// DeleteGrant implements kms.Store.
func (s *Store) DeleteGrant(_ context.Context, keyID, grantID string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketGrants)
		k := join(keyID, grantID)
		if b.Get(k) == nil {
			return kms.ErrStoreNoSuchGrant
		}
		return b.Delete(k)
	})
}

// ListGrants implements kms.Store.
func (s *Store) ListGrants(_ context.Context, keyID string) ([]kms.Grant, error) {
	var out []kms.Grant
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := join(keyID, "")
		c := tx.Bucket(bucketGrants).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			g, err := decodeGrant(k, v)
			if err != nil {
				return err
			}
			out = append(out, g)
		}
		return nil
	})
	return out, err
}

// ScanGrants implements kms.Store.
func (s *Store) ScanGrants(_ context.Context, fn func(kms.Grant) bool) error {
	var bad []error
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketGrants).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			g, err := decodeGrant(k, v)
			if err != nil {
				bad = append(bad, err)
				continue
			}
			if !fn(g) {
				return nil
			}
		}
		return nil
	})
	return errors.Join(append([]error{err}, bad...)...)
}

// Canary implements kms.Store.
func (s *Store) Canary(_ context.Context) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRoot)
		if b == nil {
			return nil // a read-only file from before canaries
		}
		out = bytes.Clone(b.Get(keyCanary))
		return nil
	})
	return out, err
}

// PutCanary implements kms.Store.
func (s *Store) PutCanary(_ context.Context, sealed []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRoot)
		if b.Get(keyCanary) != nil {
			return kms.ErrStoreKeyExists
		}
		return b.Put(keyCanary, sealed)
	})
}

// Check decodes every alias and grant and checks the account index against the keys, calling
// finding for each problem; key records themselves are read by kms.Service.CheckKeys. It
// changes nothing, so db may be read-only.
func Check(db *bolt.DB, finding func(string)) error {
	return db.View(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if tx.Bucket(b) == nil && !bytes.Equal(b, bucketRoot) && !bytes.Equal(b, bucketUsage) {
				finding(fmt.Sprintf("kms: top-level bucket %s is missing", b))
				return nil
			}
		}
		keys := tx.Bucket(bucketKeys)
		_ = tx.Bucket(bucketByAccount).ForEach(func(k, _ []byte) error {
			i := bytes.IndexByte(k, 0)
			if i < 0 || keys.Get(k[i+1:]) == nil {
				finding(fmt.Sprintf("kms: account index entry %q names no key", k))
			}
			return nil
		})
		_ = tx.Bucket(bucketAliases).ForEach(func(k, v []byte) error {
			a, err := decodeAlias(k, v)
			if err != nil {
				finding(err.Error())
			} else if keys.Get([]byte(a.KeyID)) == nil {
				finding(fmt.Sprintf("kms: alias %s names missing key %s", a.Name, a.KeyID))
			}
			return nil
		})
		return tx.Bucket(bucketGrants).ForEach(func(k, v []byte) error {
			if _, err := decodeGrant(k, v); err != nil {
				finding(err.Error())
			}
			return nil
		})
	})
}
