package kmsbolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/coffer/coffer/internal/kms"
	bolt "go.etcd.io/bbolt"
)

// counted reports whether k counts against its account's quota of customer managed keys.
func counted(k *kms.Key) bool { return k.Manager == kms.ManagerCustomer && !k.Owned }

// keyCount returns the number of customer managed keys of account. A store from before the
// count (or one whose count was lost) has no entry: the keys are then counted once, in this
// transaction, and the caller stores the result. A damaged key record counts, so that damage
// never lets an account past its quota.
func keyCount(tx *bolt.Tx, account string) (uint64, error) {
	if v := tx.Bucket(bucketKeyCount).Get([]byte(account)); v != nil {
		if len(v) != 8 {
			return 0, fmt.Errorf("kmsbolt: key count of account %s: %w: %d bytes", account, kms.ErrStoreDamaged, len(v))
		}
		return binary.BigEndian.Uint64(v), nil
	}
	var n uint64
	prefix := join(account, "")
	c := tx.Bucket(bucketByAccount).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		key, err := getKey(tx, string(k[len(prefix):]))
		switch {
		case errors.Is(err, kms.ErrStoreDamaged):
			n++
		case err != nil:
			return 0, err
		case counted(key):
			n++
		}
	}
	return n, nil
}

func putKeyCount(tx *bolt.Tx, account string, n uint64) error {
	return tx.Bucket(bucketKeyCount).Put([]byte(account), binary.BigEndian.AppendUint64(nil, n))
}

// addKeyCount counts one more customer managed key of account, or fails with
// kms.ErrStoreQuota when quota > 0 and the account already has quota of them.
func addKeyCount(tx *bolt.Tx, account string, quota int) error {
	n, err := keyCount(tx, account)
	if err != nil {
		return err
	}
	if quota > 0 && n >= uint64(quota) {
		return kms.ErrStoreQuota
	}
	return putKeyCount(tx, account, n+1)
}

// dropKeyCount counts one customer managed key of account fewer. A store without the count
// is left without it: the next CreateKey counts what is there.
func dropKeyCount(tx *bolt.Tx, account string) error {
	v := tx.Bucket(bucketKeyCount).Get([]byte(account))
	if v == nil {
		return nil
	}
	n, err := keyCount(tx, account)
	if err != nil || n == 0 {
		// A damaged or impossible count is dropped and recounted by the next CreateKey.
		return tx.Bucket(bucketKeyCount).Delete([]byte(account))
	}
	return putKeyCount(tx, account, n-1)
}
