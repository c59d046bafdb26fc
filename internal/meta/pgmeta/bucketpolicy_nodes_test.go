package pgmeta_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/blob/fsblob"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/pgtest"
)

// TestBucketPolicyAcrossNodes: a bucket policy put or deleted through node A's object
// service decides node B's next request. The object service caches compiled policies by
// their text only and reads the text with the bucket on every request, so there is no
// window: no notification or re-read time is involved.
func TestBucketPolicyAcrossNodes(t *testing.T) {
	ctx := context.Background()
	url, blobDir := pgtest.NewDatabase(t), t.TempDir()
	newObjects := func() *object.Service {
		blobs, err := fsblob.New(filepath.Join(blobDir, "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		return object.New(object.Config{Meta: newNode(t, url), Blobs: blobs})
	}
	a, b := newObjects(), newObjects()
	const owner, other = "111122223333", "444455556666"
	if err := newNode(t, url).CreateBucket(ctx, meta.Bucket{Name: "bkt", Owner: owner}); err != nil {
		t.Fatal(err)
	}
	asOther := iam.WithRequest(ctx, &iam.Request{
		Principal: iam.Principal{AccountID: other, ARN: "arn:aws:iam::" + other + ":root", Type: iam.PrincipalAccount, Root: true, UserID: other},
		SourceIP:  netip.MustParseAddr("127.0.0.1"), SecureTransport: true, AuthType: iam.AuthHeader, SignatureVersion: iam.SigV4,
		Time: time.Now(), Region: "us-east-1"})
	readOnB := func() error {
		_, err := b.Authorize(asOther, object.Access{Action: "s3:GetObject", Bucket: "bkt", Key: "k"})
		return err
	}
	if err := readOnB(); !errors.Is(err, object.ErrAccessDenied) {
		t.Fatalf("another account's read without a policy = %v, want access denied", err)
	}
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + other +
		`"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}`
	if err := a.PutBucketPolicy(ctx, "bkt", grant); err != nil {
		t.Fatal(err)
	}
	if err := readOnB(); err != nil {
		t.Fatalf("read on B after A put a policy granting it = %v, want allowed", err)
	}
	if err := a.DeleteBucketPolicy(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	if err := readOnB(); !errors.Is(err, object.ErrAccessDenied) {
		t.Fatalf("read on B after A deleted the policy = %v, want access denied", err)
	}
}
