// Package bolttrail is the go.etcd.io/bbolt Store of package trail. It shares a *bbolt.DB with
// the other users of meta.db and keeps to one top-level bucket:
//
//	trail.trails   <account> 0 <trail name>   → Trail
//
// Records are package trailrec's: a version byte (1) followed by JSON.
package bolttrail

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/trail"
	"github.com/coffer/coffer/internal/trail/trailrec"
)

var bTrails = []byte("trail.trails")

// TopBuckets names the top-level buckets the store keeps, for the file's format record.
func TopBuckets() []string { return []string{string(bTrails)} }

// Store is a trail.Store on a bbolt database. It is safe for concurrent use.
type Store struct{ db *bolt.DB }

var _ trail.Store = (*Store)(nil)

// New creates the store's bucket in db if needed (nothing on a read-only db). The caller owns
// db and closes it.
func New(db *bolt.DB) (*Store, error) {
	if !db.IsReadOnly() {
		if err := boltfile.CreateBuckets(db, TopBuckets()); err != nil {
			return nil, fmt.Errorf("bolttrail: creating buckets: %w", err)
		}
	}
	return &Store{db: db}, nil
}

func key(account, name string) []byte {
	return append(append([]byte(account), 0), name...)
}

// Create implements trail.Store.
func (s *Store) Create(_ context.Context, t trail.Trail, limit int) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bTrails)
		k := key(t.Account, t.Name)
		if b.Get(k) != nil {
			return trail.ErrTrailExists
		}
		n := 0
		prefix := key(t.Account, "")
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		if n >= limit {
			return trail.ErrTooManyTrails
		}
		v, err := trailrec.Encode(&t)
		if err != nil {
			return err
		}
		return b.Put(k, v)
	})
}

// Get implements trail.Store.
func (s *Store) Get(_ context.Context, account, name string) (trail.Trail, error) {
	var t trail.Trail
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bTrails).Get(key(account, name))
		if v == nil {
			return trail.ErrTrailNotFound
		}
		var err error
		t, err = trailrec.Decode(v)
		return err
	})
	return t, err
}

// List implements trail.Store.
func (s *Store) List(_ context.Context, account string) ([]trail.Trail, error) {
	var out []trail.Trail
	err := s.db.View(func(tx *bolt.Tx) error {
		var prefix []byte
		if account != "" {
			prefix = key(account, "")
		}
		c := tx.Bucket(bTrails).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			t, err := trailrec.Decode(v)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// Update implements trail.Store.
func (s *Store) Update(_ context.Context, account, name string, fn func(*trail.Trail) error) (trail.Trail, error) {
	var t trail.Trail
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bTrails)
		k := key(account, name)
		v := b.Get(k)
		if v == nil {
			return trail.ErrTrailNotFound
		}
		var err error
		if t, err = trailrec.Decode(v); err != nil {
			return err
		}
		if err := fn(&t); err != nil {
			return err
		}
		if v, err = trailrec.Encode(&t); err != nil {
			return err
		}
		return b.Put(k, v)
	})
	return t, err
}

// Delete implements trail.Store.
func (s *Store) Delete(_ context.Context, account, name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bTrails)
		k := key(account, name)
		if b.Get(k) == nil {
			return trail.ErrTrailNotFound
		}
		return b.Delete(k)
	})
}
