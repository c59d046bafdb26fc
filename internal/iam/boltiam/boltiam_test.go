package boltiam_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/boltiam"
	"github.com/coffer/coffer/internal/iam/iamtest"
)

// openDB opens a fresh meta.db, closed when t ends.
func openDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newStore(t *testing.T, db *bolt.DB) *boltiam.Store {
	t.Helper()
	s, err := boltiam.New(db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	iamtest.Run(t, func(t *testing.T) iam.Store { return newStore(t, openDB(t)) })
}

// TestNodes runs iamtest's multi-node cases on two stores sharing one file, as the two nodes
// share a database: the cases hold for any backend.
func TestNodes(t *testing.T) {
	iamtest.RunNodes(t, func(t *testing.T) (iam.Store, iam.Store) {
		db := openDB(t)
		return newStore(t, db), newStore(t, db)
	})
}

// TestRecordsBeforeTags: user, role and policy records written before tags existed (version
// 1, no Tags field) still read, with no tags, and take tags when updated.
func TestRecordsBeforeTags(t *testing.T) {
	db := openDB(t)
	s := newStore(t, db)
	old := []struct{ bucket, key, record string }{
		{"iam.accounts", "111122223333", `{"ID":"111122223333","DisplayName":"a"}`},
		{"iam.users", "111122223333\x00alice", `{"Account":"111122223333","Name":"Alice","Path":"/","ID":"AIDA1","Created":"2026-11-05T12:00:00Z"}`},
		{"iam.roles", "111122223333\x00r", `{"Account":"111122223333","Name":"R","Path":"/","ID":"AROA1","TrustPolicy":"{}","Description":"","MaxSessionDuration":3600,"Created":"2026-11-05T12:00:00Z"}`},
		{"iam.policies", "111122223333\x00p", `{"Account":"111122223333","Name":"P","Path":"/","ID":"ANPA1","Description":"","DefaultVersion":"v1","Versions":[{"ID":"v1","Document":"{}","Created":"2026-11-05T12:00:00Z"}],"NextVersion":2,"Created":"2026-11-05T12:00:00Z","Updated":"2026-11-05T12:00:00Z","Attachments":0}`},
	}
	err := db.Update(func(tx *bolt.Tx) error {
		for _, o := range old {
			if err := tx.Bucket([]byte(o.bucket)).Put([]byte(o.key), append([]byte{1}, o.record...)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u, err := s.GetUser(ctx, "111122223333", "alice")
	if err != nil || u.Name != "Alice" || u.Tags != nil {
		t.Errorf("GetUser = %+v, %v", u, err)
	}
	r, err := s.GetRole(ctx, "111122223333", "r")
	if err != nil || r.Name != "R" || r.Tags != nil {
		t.Errorf("GetRole = %+v, %v", r, err)
	}
	p, err := s.GetPolicy(ctx, "111122223333", "p")
	if err != nil || p.DefaultVersion != "v1" || p.Tags != nil {
		t.Errorf("GetPolicy = %+v, %v", p, err)
	}
	tags := []iam.Tag{{Key: "k", Value: "v"}}
	if _, err := s.UpdateUser(ctx, "111122223333", "alice", func(u *iam.User) error { u.Tags = tags; return nil }); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.GetUser(ctx, "111122223333", "ALICE"); !reflect.DeepEqual(u.Tags, tags) {
		t.Errorf("tags after update = %+v", u.Tags)
	}
}
