package object_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
)

// overwriteFirst is the real metadata store in which another node's overwrite lands between
// an UpdateObjectEncryption's read and its swap, once: the race the swap's condition exists for.
type overwriteFirst struct {
	meta.Store
	once      sync.Once
	overwrite func()
}

func (s *overwriteFirst) ReplaceEncryption(ctx context.Context, read meta.Object, enc *meta.Encryption) error {
	s.once.Do(s.overwrite)
	return s.Store.ReplaceEncryption(ctx, read, enc)
}

// TestUpdateObjectEncryptionTwoNodes: two object services (two nodes, each with its own KMS
// service and bucket-key cache) share one metadata and blob store. Node A re-wraps an object
// while node B overwrites it between A's read and A's swap: the overwrite stands, A's update
// applies to the new object, and both nodes read the new bytes. Then each node re-wraps what
// the other wrote, with and without a bucket key, and both keep reading.
func TestUpdateObjectEncryptionTwoNodes(t *testing.T) {
	dir := t.TempDir()
	db, ms, blobs := realStores(t, dir)
	const account = "111122223333"
	ctx := object.WithCaller(context.Background(), object.Caller{Account: account, ARN: "arn:aws:iam::" + account + ":root"})
	racing := &overwriteFirst{Store: ms}
	nodeA := object.New(object.Config{Meta: racing, Blobs: blobs, Keys: realKeys(t, db, dir)})
	nodeB := object.New(object.Config{Meta: ms, Blobs: blobs, Keys: realKeys(t, db, dir)})
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "bkt", Owner: account}); err != nil {
		t.Fatal(err)
	}
	put := func(node *object.Service, key string, body []byte, sse object.SSE) object.Object {
		t.Helper()
		o, err := node.PutObject(ctx, object.PutInput{Bucket: "bkt", Key: key, Owner: account, Body: bytes.NewReader(body), Size: int64(len(body)), SSE: sse})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	read := func(node *object.Service, key string) []byte {
		t.Helper()
		_, rd, err := node.OpenObject(ctx, "bkt", key, secret.Key{})
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		b, err := io.ReadAll(io.NewSectionReader(rd, 0, rd.Size()))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// The managed key alias/aws/s3, made by the first SSE-KMS write, is the target.
	arn := put(nodeB, "managed", []byte("x"), object.SSE{Algorithm: object.SSEKMS}).Encryption.KMSKeyARN

	old, fresh := bytes.Repeat([]byte("old "), 8<<10), bytes.Repeat([]byte("new!"), 9<<10)
	put(nodeA, "k", old, object.SSE{})
	var overwritten object.Object
	racing.overwrite = func() { overwritten = put(nodeB, "k", fresh, object.SSE{}) }
	if err := nodeA.UpdateObjectEncryption(ctx, "bkt", "k", object.EncryptionUpdate{KMSKeyARN: arn, BucketKey: true}); err != nil {
		t.Fatalf("UpdateObjectEncryption: %v", err)
	}
	for name, node := range map[string]*object.Service{"A": nodeA, "B": nodeB} {
		o, err := node.Head(ctx, "bkt", "k")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(read(node, "k"), fresh) || o.ETag != overwritten.ETag || !o.LastModified.Equal(overwritten.LastModified) {
			t.Fatalf("node %s: the overwrite was lost", name)
		}
		if o.Encryption.Algorithm != object.SSEKMS || o.Encryption.KMSKeyARN != arn || !o.Encryption.BucketKeyEnabled {
			t.Fatalf("node %s: the update did not apply to the new object: %+v", name, o.Encryption)
		}
	}

	steps := []struct {
		name       string
		by, reader *object.Service
		bucketKey  bool
	}{
		{"B drops the bucket key A added", nodeB, nodeA, false},
		{"A adds it again", nodeA, nodeB, true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := s.by.UpdateObjectEncryption(ctx, "bkt", "k", object.EncryptionUpdate{KMSKeyARN: arn, BucketKey: s.bucketKey}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(read(s.reader, "k"), fresh) || !bytes.Equal(read(s.by, "k"), fresh) {
				t.Fatal("wrong bytes after the update")
			}
		})
	}
	t.Run("a key of another account than the bucket owner's is refused", func(t *testing.T) {
		err := nodeB.UpdateObjectEncryption(ctx, "bkt", "k", object.EncryptionUpdate{KMSKeyARN: "arn:aws:kms:us-east-1:999999999999:key/x"})
		if !errors.Is(err, object.ErrUpdateKeyAccount) {
			t.Fatalf("UpdateObjectEncryption = %v, want ErrUpdateKeyAccount", err)
		}
	})
}
