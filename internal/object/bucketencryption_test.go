package object_test

import (
	"context"
	"slices"
	"testing"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/object"
)

// retriedUpdate is the real metadata store whose UpdateBucket runs fn twice, as a store on
// SERIALIZABLE transactions does when another node's write commits between its read and its
// commit: fn's first run is thrown away, between runs, and fn runs again on what is stored then.
type retriedUpdate struct {
	meta.Store
	between func()
}

func (s *retriedUpdate) UpdateBucket(ctx context.Context, name string, fn func(*meta.Bucket) error) error {
	b, err := s.Store.GetBucket(ctx, name)
	if err != nil {
		return err
	}
	if err := fn(&b); err != nil {
		return err
	}
	if s.between != nil {
		s.between()
		s.between = nil
	}
	return s.Store.UpdateBucket(ctx, name, fn)
}

// TestSetBucketEncryptionRetried: a default encryption without BlockedEncryptionTypes keeps
// the bucket's current setting, which is a security setting (it blocks SSE-C). When the
// update runs again because another node changed that setting meanwhile, the second run
// must keep what is stored then, not what the first run read.
func TestSetBucketEncryptionRetried(t *testing.T) {
	dir := t.TempDir()
	db, ms, blobs := realStores(t, dir)
	ctx := context.Background()
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "bkt", Owner: "111122223333"}); err != nil {
		t.Fatal(err)
	}
	other := object.New(object.Config{Meta: ms, Blobs: blobs, Keys: realKeys(t, db, dir)})
	if err := other.SetBucketEncryption(ctx, "bkt", &object.BucketEncryption{Algorithm: object.SSES3,
		BlockedEncryptionTypes: []string{object.NoneBlocked}}); err != nil {
		t.Fatal(err)
	}
	racing := &retriedUpdate{Store: ms}
	node := object.New(object.Config{Meta: racing, Blobs: blobs, Keys: realKeys(t, db, dir)})
	racing.between = func() {
		if err := other.SetBucketEncryption(ctx, "bkt", &object.BucketEncryption{Algorithm: object.SSES3,
			BlockedEncryptionTypes: []string{object.BlockedSSEC}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := node.SetBucketEncryption(ctx, "bkt", &object.BucketEncryption{Algorithm: object.SSES3, BucketKeyEnabled: true}); err != nil {
		t.Fatal(err)
	}
	b, err := other.Bucket(ctx, "bkt")
	if err != nil {
		t.Fatal(err)
	}
	if got := b.DefaultEncryption(); !got.BucketKeyEnabled || !slices.Equal(got.BlockedEncryptionTypes, []string{object.BlockedSSEC}) {
		t.Fatalf("default encryption %+v, want the bucket key on and SSE-C blocked as the other node set it", got)
	}
}
