package pgiam_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/iamrec"
	"github.com/coffer/coffer/internal/iam/iamtest"
	"github.com/coffer/coffer/internal/iam/pgiam"
	"github.com/coffer/coffer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newNode opens a store on the database at url with a pool of its own, as one Coffer node
// would; the store and pool close when t ends.
func newNode(t *testing.T, url string) *pgiam.Store {
	t.Helper()
	return pgtest.OpenStore(t, url, pgiam.New)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	iamtest.Run(t, func(t *testing.T) iam.Store { return newNode(t, pgtest.NewDatabase(t)) })
}

// TestNodes runs iamtest's multi-node cases on two stores with their own pools on one
// database, as two Coffer nodes would run.
func TestNodes(t *testing.T) {
	t.Parallel()
	iamtest.RunNodes(t, func(t *testing.T) (iam.Store, iam.Store) {
		url := pgtest.NewDatabase(t)
		return newNode(t, url), newNode(t, url)
	})
}

// TestClosed: a closed store refuses reads and writes, and another store on the same
// database goes on serving.
func TestClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s, other := newNode(t, url), newNode(t, url)
	if err := s.CreateAccount(ctx, iam.Account{ID: "111122223333"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	calls := []struct {
		name string
		call func() error
	}{
		{"GetAccount", func() error { _, err := s.GetAccount(ctx, "111122223333"); return err }},
		{"CreateUser", func() error { return s.CreateUser(ctx, iam.User{Account: "111122223333", Name: "u", Path: "/"}) }},
		{"ListAccessKeys", func() error { _, err := s.ListAccessKeys(ctx, "111122223333", ""); return err }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, pgiam.ErrClosed) {
				t.Fatalf("%s after Close = %v, want ErrClosed", tc.name, err)
			}
		})
	}
	if _, err := other.GetAccount(ctx, "111122223333"); err != nil {
		t.Fatalf("the other store: %v", err)
	}
}

// TestRecordsAsBoltiam: what the store keeps is iamrec's record, the bytes boltiam keeps, so
// records move between the stores as they are; an access key's sealed secret is in it as
// given.
func TestRecordsAsBoltiam(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s := newNode(t, url)
	k := iam.AccessKey{ID: "AKIAREC", Account: "111122223333", Status: iam.StatusActive, SealedSecret: []byte{0, 0xff, 's'}}
	if err := s.CreateAccount(ctx, iam.Account{ID: k.Account}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccessKey(ctx, k, 2); err != nil {
		t.Fatal(err)
	}
	var rec []byte
	if err := pgtest.OpenPool(t, url).QueryRow(ctx, "SELECT rec FROM iam_access_keys WHERE id = $1", []byte(k.ID)).Scan(&rec); err != nil {
		t.Fatal(err)
	}
	want, err := iamrec.Encode(k)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rec, want) {
		t.Fatalf("stored record %q, want iamrec's %q", rec, want)
	}
}
