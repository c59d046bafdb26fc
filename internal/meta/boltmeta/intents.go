package boltmeta

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/metarec"
)

// Intents live in the top-level bucket s3.intents, keyed by blob name; the value is
// metarec's intent record (see metarec.EncodeIntent), which carries the intent's kind.
var topIntents = []byte("s3.intents")

// TopBuckets names the top-level buckets the store keeps, for the file's format record.
func TopBuckets() []string { return []string{string(topBuckets), string(topIntents)} }

// RecordIntent implements meta.Store.
func (s *Store) RecordIntent(ctx context.Context, in meta.Intent) error {
	rec, err := metarec.EncodeIntent(in)
	if err != nil {
		return fmt.Errorf("boltmeta: record intent %s: %w", in.Blob, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(topIntents).Put([]byte(in.Blob), rec)
	})
	if err != nil {
		return fmt.Errorf("boltmeta: record intent %s: %w", in.Blob, err)
	}
	return nil
}

// DropIntent implements meta.Store.
func (s *Store) DropIntent(ctx context.Context, blob string) error {
	err := s.update(ctx, func(tx *bolt.Tx) error { return dropIntent(tx, blob) })
	if err != nil {
		return fmt.Errorf("boltmeta: drop intent %s: %w", blob, err)
	}
	return nil
}

func dropIntent(tx *bolt.Tx, blob string) error {
	if blob == "" {
		return nil
	}
	b := tx.Bucket(topIntents)
	if b.Get([]byte(blob)) == nil {
		return nil // most writes: no intent (inline data), or already dropped
	}
	return b.Delete([]byte(blob))
}

// ListIntents implements meta.Store.
func (s *Store) ListIntents(ctx context.Context, before time.Time, limit int) ([]meta.Intent, error) {
	var out []meta.Intent
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(topIntents).Cursor()
		for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			in, err := metarec.DecodeIntent(string(k), v)
			if err != nil {
				return fmt.Errorf("intent %q: %w", k, err)
			}
			if in.Created.Before(before) {
				out = append(out, in)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltmeta: list intents: %w", err)
	}
	return out, nil
}
