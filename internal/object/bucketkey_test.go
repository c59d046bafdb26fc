package object_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
)

// TestBucketKeyCacheSlotsDistinct: two writes whose KMS key id and encryption context differ
// but would read alike if their fields were simply joined with a separator (a NUL inside a
// context value or key id) get bucket keys made for their own context. A second node, whose
// cache is empty, unwraps each record's bucket key with the context the record names, so
// both objects read back there; a shared cached bucket key would have left the second object
// sealed under a key its record cannot unwrap.
func TestBucketKeyCacheSlotsDistinct(t *testing.T) {
	dir := t.TempDir()
	db, ms, blobs := realStores(t, dir)
	const account = "111122223333"
	ctx := object.WithCaller(context.Background(), object.Caller{Account: account, ARN: "arn:aws:iam::" + account + ":root"})
	writer := object.New(object.Config{Meta: ms, Blobs: blobs, Keys: realKeys(t, db, dir)})
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "bkt", Owner: account}); err != nil {
		t.Fatal(err)
	}
	on := true
	cases := []struct {
		name        string
		first, then map[string]string
	}{
		{name: "a NUL in a value against two pairs", first: map[string]string{"a": "b\x00c\x00d"}, then: map[string]string{"a": "b", "c": "d"}},
		{name: "two pairs against a NUL in a value", first: map[string]string{"p": "q", "r": "s"}, then: map[string]string{"p": "q\x00r\x00s"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objects := []struct {
				key  string
				ec   map[string]string
				body []byte
			}{{tc.name + "/first", tc.first, []byte("first body")}, {tc.name + "/then", tc.then, []byte("then body")}}
			for _, o := range objects {
				put(t, ctx, writer, o.key, o.body, object.SSE{Algorithm: object.SSEKMS, Context: o.ec, BucketKey: &on})
			}
			for _, o := range objects {
				reader := object.New(object.Config{Meta: ms, Blobs: blobs, Keys: realKeys(t, db, dir)})
				_, rd, err := reader.OpenObject(ctx, "bkt", o.key, secret.Key{})
				if err != nil {
					t.Fatalf("open %s on a node with an empty cache: %v", o.key, err)
				}
				got, err := io.ReadAll(io.NewSectionReader(rd, 0, rd.Size()))
				rd.Close()
				if err != nil || !bytes.Equal(got, o.body) {
					t.Fatalf("read %s = %q, %v; want %q", o.key, got, err, o.body)
				}
			}
		})
	}
}

func put(t *testing.T, ctx context.Context, s *object.Service, key string, body []byte, sse object.SSE) {
	t.Helper()
	if _, err := s.PutObject(ctx, object.PutInput{Bucket: "bkt", Key: key, Owner: "111122223333", Body: bytes.NewReader(body), Size: int64(len(body)), SSE: sse}); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}
