package boltmeta

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/metarec"
)

// Intents live in the top-level bucket s3.intents, keyed by blob name; the value is the version
// byte and the JSON intentRec.
var topIntents = []byte("s3.intents")

type intentRec struct {
	Bucket   string `json:"b"`
	Key      string `json:"k"`
	UploadID string `json:"u,omitempty"`
	Created  int64  `json:"c"`
}

// TopBuckets names the top-level buckets the store keeps, for the file's format record.
func TopBuckets() []string { return []string{string(topBuckets), string(topIntents)} }

// RecordIntent implements meta.Store.
func (s *Store) RecordIntent(ctx context.Context, in meta.Intent) error {
	v, err := json.Marshal(intentRec{Bucket: in.Bucket, Key: in.Key, UploadID: in.UploadID, Created: in.Created.UnixNano()})
	if err != nil {
		return err
	}
	rec := append([]byte{metarec.V1}, v...)
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
			if len(v) < 1 || v[0] != metarec.V1 {
				return fmt.Errorf("intent %q: %w", k, metarec.ErrBadRecord)
			}
			var r intentRec
			if err := json.Unmarshal(v[1:], &r); err != nil {
				return fmt.Errorf("intent %q: %w: %v", k, metarec.ErrBadRecord, err)
			}
			created := time.Unix(0, r.Created).UTC()
			if !created.Before(before) {
				continue
			}
			out = append(out, meta.Intent{Blob: string(k), Bucket: r.Bucket, Key: r.Key, UploadID: r.UploadID, Created: created})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltmeta: list intents: %w", err)
	}
	return out, nil
}
