package metatest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/coffer/coffer/internal/meta"
)

// testBucketAccess checks that UpdateBucket stores a bucket's policy and Block Public Access
// configuration, that they list with the bucket, and that a failing update changes nothing.
func testBucketAccess(t *testing.T, s meta.Store) {
	ctx := context.Background()
	mustBucket(t, s, "acc")
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acc/*"}]}`
	pab := &meta.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	type state struct {
		policy string
		pab    *meta.PublicAccessBlock
	}
	tests := []struct {
		name string
		fn   func(*meta.Bucket) error
		want state
		err  bool
	}{
		{"set", func(b *meta.Bucket) error { b.Policy, b.PublicAccessBlock = doc, pab; return nil }, state{doc, pab}, false},
		{"failing update changes nothing", func(b *meta.Bucket) error { b.Policy, b.PublicAccessBlock = "", nil; return errors.New("no") }, state{doc, pab}, true},
		{"delete policy", func(b *meta.Bucket) error { b.Policy = ""; return nil }, state{"", pab}, false},
		{"delete block", func(b *meta.Bucket) error { b.PublicAccessBlock = nil; return nil }, state{"", nil}, false},
		{"all false is not none", func(b *meta.Bucket) error { b.PublicAccessBlock = &meta.PublicAccessBlock{}; return nil }, state{"", &meta.PublicAccessBlock{}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.UpdateBucket(ctx, "acc", tc.fn)
			if (err != nil) != tc.err {
				t.Fatalf("UpdateBucket = %v, want error %v", err, tc.err)
			}
			b, err := s.GetBucket(ctx, "acc")
			if err != nil {
				t.Fatal(err)
			}
			if b.Policy != tc.want.policy || !reflect.DeepEqual(b.PublicAccessBlock, tc.want.pab) {
				t.Fatalf("policy %q, block %+v; want %q, %+v", b.Policy, b.PublicAccessBlock, tc.want.policy, tc.want.pab)
			}
			bs, err := s.ListBuckets(ctx)
			if err != nil || len(bs) != 1 || bs[0].Policy != tc.want.policy || !reflect.DeepEqual(bs[0].PublicAccessBlock, tc.want.pab) {
				t.Fatalf("ListBuckets = %+v, %v", bs, err)
			}
		})
	}
	t.Run("created with", func(t *testing.T) {
		err := s.CreateBucket(ctx, meta.Bucket{Name: "acc2", Owner: "111122223333", Policy: doc, PublicAccessBlock: pab})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.GetBucket(ctx, "acc2")
		if err != nil || b.Policy != doc || !reflect.DeepEqual(b.PublicAccessBlock, pab) {
			t.Fatalf("GetBucket = %+v, %v", b, err)
		}
	})
}
