package object_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
)

// TestCompleteWithVanishedUpload: a completion that read its upload before a concurrent
// completion of the same upload finished (on this node or another) succeeds with that
// completion's object when it names the same parts, and is InvalidPart when it names others —
// never NoSuchUpload, whichever step finds the upload gone.
func TestCompleteWithVanishedUpload(t *testing.T) {
	dir := t.TempDir()
	db, ms, blobs := realStores(t, dir)
	svc := object.New(object.Config{Meta: ms, Blobs: blobs, Keys: realKeys(t, db, dir)})
	const account = "111122223333"
	ctx := object.WithCaller(context.Background(), object.Caller{Account: account, ARN: "arn:aws:iam::" + account + ":root"})
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "race"}); err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUpload(ctx, object.CreateUploadInput{Bucket: "race", Key: "k", Owner: account})
	if err != nil {
		t.Fatal(err)
	}
	part := []byte("the only part")
	p, err := svc.UploadPart(ctx, u, 1, bytes.NewReader(part), int64(len(part)), object.Expect{}, secret.Key{})
	if err != nil {
		t.Fatal(err)
	}
	list := []object.CompletedPart{{Number: 1, ETag: p.ETag}}
	first, err := svc.Complete(ctx, u, list, "", object.WriteCondition{}, secret.Key{})
	if err != nil {
		t.Fatal(err)
	}
	// u is now stale: the upload it describes is gone.
	again, err := svc.Complete(ctx, u, list, "", object.WriteCondition{}, secret.Key{})
	if err != nil {
		t.Fatalf("completion racing a finished one: %v", err)
	}
	if again.ETag != first.ETag {
		t.Fatalf("ETag %q, the winning completion made %q", again.ETag, first.ETag)
	}
	other := []object.CompletedPart{{Number: 1, ETag: `"00000000000000000000000000000000"`}}
	if _, err := svc.Complete(ctx, u, other, "", object.WriteCondition{}, secret.Key{}); !errors.Is(err, object.ErrInvalidPart) {
		t.Fatalf("a different part list after the race: %v, want ErrInvalidPart", err)
	}
}
