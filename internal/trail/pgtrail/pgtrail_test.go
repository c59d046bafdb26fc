package pgtrail_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer/coffer/internal/pgtest"
	"github.com/coffer/coffer/internal/trail"
	"github.com/coffer/coffer/internal/trail/pgtrail"
	"github.com/coffer/coffer/internal/trail/trailtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newNode opens a store on the database at url with a pool of its own, as one Coffer node
// would; the store and pool close when t ends.
func newNode(t *testing.T, url string) *pgtrail.Store {
	t.Helper()
	return pgtest.OpenStore(t, url, pgtrail.New)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	trailtest.Run(t, func(t *testing.T) trail.Store { return newNode(t, pgtest.NewDatabase(t)) })
}

// TestNodes runs trailtest's multi-node cases on two stores with their own pools on one
// database, as two Coffer nodes would run.
func TestNodes(t *testing.T) {
	t.Parallel()
	trailtest.RunNodes(t, func(t *testing.T) (trail.Store, trail.Store) {
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
	if err := s.Create(ctx, trail.Trail{Account: "111122223333", Name: "main"}, 5); err != nil {
		t.Fatal(err)
	}
	s.Close()
	calls := []struct {
		name string
		call func() error
	}{
		{"Get", func() error { _, err := s.Get(ctx, "111122223333", "main"); return err }},
		{"List", func() error { _, err := s.List(ctx, ""); return err }},
		{"Update", func() error {
			_, err := s.Update(ctx, "111122223333", "main", func(*trail.Trail) error { return nil })
			return err
		}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, pgtrail.ErrClosed) {
				t.Fatalf("%s after Close = %v, want ErrClosed", tc.name, err)
			}
		})
	}
	if _, err := other.Get(ctx, "111122223333", "main"); err != nil {
		t.Fatalf("the other store: %v", err)
	}
}
