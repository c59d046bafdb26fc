package kmsbolt

import (
	"context"
	"fmt"
	"time"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
	bolt "go.etcd.io/bbolt"
)

var (
	// bucketUsage holds the last use of each key: key id → JSON kms.KeyUsage. It is
	// informational (GetKeyLastUsage) and carries no MAC: changing it changes no key.
	bucketUsage = []byte("kms.usage")
	// keyTrackingStart (in bucketRoot) is when the store began tracking usage, RFC 3339.
	keyTrackingStart = []byte("usage-tracking-start")
)

var _ kms.UsageStore = (*Store)(nil)

// PutLastUsage implements kms.UsageStore.
func (s *Store) PutLastUsage(_ context.Context, uses map[string]kms.KeyUsage) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsage)
		keys := tx.Bucket(bucketKeys)
		for id, u := range uses {
			if keys.Get([]byte(id)) == nil {
				continue // destroyed since
			}
			if old, ok := kmsrec.DecodeUsage(b.Get([]byte(id))); ok && !u.Time.After(old.Time) {
				continue
			}
			v, err := kmsrec.Encode(u)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(id), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// LastUsage implements kms.UsageStore.
func (s *Store) LastUsage(_ context.Context, id string) (kms.KeyUsage, bool, error) {
	var u kms.KeyUsage
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketUsage); b != nil {
			u, ok = kmsrec.DecodeUsage(b.Get([]byte(id)))
		}
		return nil
	})
	return u, ok, err
}

// TrackingStart implements kms.UsageStore.
func (s *Store) TrackingStart(_ context.Context, now time.Time) (time.Time, error) {
	var start time.Time
	read := func(tx *bolt.Tx) (bool, error) {
		b := tx.Bucket(bucketRoot)
		if b == nil {
			return false, nil
		}
		v := b.Get(keyTrackingStart)
		if v == nil {
			return false, nil
		}
		t, err := kmsrec.DecodeTrackingStart(v)
		if err != nil {
			return false, fmt.Errorf("kmsbolt: %w", err)
		}
		start = t
		return true, nil
	}
	var found bool
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		found, err = read(tx)
		return err
	})
	if err != nil || found || s.db.IsReadOnly() {
		if !found && err == nil {
			start = now.UTC()
		}
		return start, err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if ok, err := read(tx); ok || err != nil {
			return err
		}
		start = now.UTC().Truncate(time.Second)
		return tx.Bucket(bucketRoot).Put(keyTrackingStart, kmsrec.EncodeTrackingStart(start))
	})
	return start, err
}
