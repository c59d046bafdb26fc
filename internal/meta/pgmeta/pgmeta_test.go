package pgmeta_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/metatest"
	"github.com/coffer/coffer/internal/meta/pgmeta"
	"github.com/coffer/coffer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newNode opens a store on the database at url with a pool of its own, as one Coffer node
// would; the store and pool close when t ends.
func newNode(t *testing.T, url string) *pgmeta.Store {
	t.Helper()
	return pgtest.OpenStore(t, url, pgmeta.New)
}

func TestConformance(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Store { return newNode(t, pgtest.NewDatabase(t)) })
}

// TestNodes runs metatest's multi-node cases on two stores with their own pools on one
// database, as two Coffer nodes would run.
func TestNodes(t *testing.T) {
	metatest.RunNodes(t, func(t *testing.T) (meta.Store, meta.Store) {
		url := pgtest.NewDatabase(t)
		return newNode(t, url), newNode(t, url)
	})
}

// TestClosed: a closed store refuses reads and writes, and another store on the same
// database goes on serving.
func TestClosed(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s, other := newNode(t, url), newNode(t, url)
	if err := s.CreateBucket(ctx, meta.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	calls := []struct {
		name string
		call func() error
	}{
		{"GetBucket", func() error { _, err := s.GetBucket(ctx, "b"); return err }},
		{"PutObject", func() error {
			_, err := s.PutObject(ctx, meta.Object{Bucket: "b", Key: "k"})
			return err
		}},
		{"ListObjects", func() error { _, err := s.ListObjects(ctx, "b", meta.ListOptions{}); return err }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, pgmeta.ErrClosed) {
				t.Fatalf("%s after Close = %v, want ErrClosed", tc.name, err)
			}
		})
	}
	if _, err := other.GetBucket(ctx, "b"); err != nil {
		t.Fatalf("the other store: %v", err)
	}
}
