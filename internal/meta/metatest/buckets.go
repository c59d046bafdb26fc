package metatest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/coffer/coffer/internal/meta"
)

// testUpdateBucket: UpdateBucket changes settings in place, keeps the bucket's identity, and
// changes nothing when fn fails or the bucket is gone.
func testUpdateBucket(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	before, err := s.GetBucket(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("set", func(t *testing.T) {
		err := s.UpdateBucket(ctx, "b", func(b *meta.Bucket) error {
			b.ObjectOwnership = "ObjectWriter"
			b.Owner, b.Name, b.Created = "someone else", "other", b.Created.Add(1)
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateBucket: %v", err)
		}
		got, err := s.GetBucket(ctx, "b")
		if err != nil {
			t.Fatal(err)
		}
		want := before
		want.ObjectOwnership = "ObjectWriter"
		if got != want {
			t.Fatalf("after update %+v, want %+v (identity kept)", got, want)
		}
	})
	t.Run("fn error changes nothing", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.UpdateBucket(ctx, "b", func(b *meta.Bucket) error { b.ObjectOwnership = "x"; return boom })
		wantErr(t, "UpdateBucket", err, boom)
		if got, _ := s.GetBucket(ctx, "b"); got.ObjectOwnership != "ObjectWriter" {
			t.Fatalf("failed update stored %q", got.ObjectOwnership)
		}
	})
	t.Run("missing bucket", func(t *testing.T) {
		err := s.UpdateBucket(ctx, "nope", func(*meta.Bucket) error { return nil })
		wantErr(t, "UpdateBucket", err, meta.ErrNoSuchBucket)
	})
	t.Run("listed", func(t *testing.T) {
		bs, err := s.ListBuckets(ctx)
		if err != nil || len(bs) != 1 || bs[0].ObjectOwnership != "ObjectWriter" {
			t.Fatalf("ListBuckets = %+v, %v", bs, err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		// Read-modify-write in one transaction: no update is lost.
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.UpdateBucket(ctx, "b", func(b *meta.Bucket) error {
					b.Region += fmt.Sprint(i % 10)
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if got, _ := s.GetBucket(ctx, "b"); len(got.Region) != 16 {
			t.Fatalf("region %q: %d of 16 updates kept", got.Region, len(got.Region))
		}
	})
}
