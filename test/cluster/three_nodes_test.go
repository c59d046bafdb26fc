package cluster_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/coffer/coffer/internal/cluster"
)

// keyStateBound is the longest a KMS key state change made through one node may take to
// reach another: cluster.StaleBound when its notification is lost (milliseconds when not),
// with a margin for a loaded test machine.
const keyStateBound = cluster.StaleBound + 3*time.Second

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func get(ctx context.Context, c *s3.Client, bucket, key string) ([]byte, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func put(ctx context.Context, c *s3.Client, bucket, key string, body []byte) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	return err
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestThreeNodes: three Coffer processes on one PostgreSQL and one blob store serve one
// deployment: what is written through one node is read, listed, completed and decrypted
// through the others, a key disabled through node 1 fails reads on node 3 within the bound,
// and kill -9 of a node mid-traffic loses no acknowledged write while the others serve on.
func TestThreeNodes(t *testing.T) {
	d := startDeployment(t, 3)
	ctx := context.Background()
	n1, n2, n3 := d.node(0), d.node(1), d.node(2)
	const bucket = "shared"
	if _, err := n1.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket on node 1: %v", err)
	}
	if _, err := n3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("head the bucket on node 3: %v", err)
	}

	t.Run("WriteReadList", func(t *testing.T) {
		want := map[string][]byte{}
		for i := range 6 {
			key := fmt.Sprintf("spread/%d", i)
			want[key] = random(1000 + i*4096)
			if err := put(ctx, d.node(i%3), bucket, key, want[key]); err != nil {
				t.Fatalf("put %s through node %d: %v", key, i%3+1, err)
			}
		}
		for key, body := range want {
			for i := range 3 {
				got, err := get(ctx, d.node(i), bucket, key)
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("get %s through node %d: %d bytes, %v", key, i+1, len(got), err)
				}
			}
		}
		out, err := n2.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("spread/")})
		if err != nil || len(out.Contents) != len(want) {
			t.Fatalf("list through node 2: %d objects, %v; want %d", len(out.Contents), err, len(want))
		}
	})

	t.Run("ConditionalCreateOnce", func(t *testing.T) {
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 9 {
			wg.Go(func() {
				_, err := d.node(i%3).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("once"),
					Body: bytes.NewReader([]byte{byte(i)}), IfNoneMatch: aws.String("*")})
				switch code := errorCode(err); {
				case err == nil:
					wins.Add(1)
				case code != "PreconditionFailed" && code != "ConditionalRequestConflict":
					t.Errorf("conditional put through node %d: %v", i%3+1, err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d conditional creates of one key succeeded across nodes, want 1", wins.Load())
		}
	})

	t.Run("MultipartAcrossNodes", func(t *testing.T) {
		up, err := n1.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("big")})
		if err != nil {
			t.Fatal(err)
		}
		parts := [][]byte{random(5 << 20), random(1 << 20)}
		var done []s3types.CompletedPart
		for i, body := range parts {
			c := []*s3.Client{n2, n3}[i]
			out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("big"), UploadId: up.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body)})
			if err != nil {
				t.Fatalf("part %d through node %d: %v", i+1, i+2, err)
			}
			done = append(done, s3types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1)), ChecksumCRC32: out.ChecksumCRC32,
				ChecksumCRC64NVME: out.ChecksumCRC64NVME})
		}
		ls, err := n3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String("big"), UploadId: up.UploadId})
		if err != nil || len(ls.Parts) != 2 {
			t.Fatalf("list parts through node 3: %v, %v", ls, err)
		}
		if _, err := n1.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("big"),
			UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: done}}); err != nil {
			t.Fatalf("complete through node 1: %v", err)
		}
		got, err := get(ctx, n2, bucket, "big")
		if err != nil || !bytes.Equal(got, slices.Concat(parts...)) {
			t.Fatalf("get the completed upload through node 2: %d bytes, %v", len(got), err)
		}
	})

	t.Run("KeyDisabledOnNode1FailsOnNode3", func(t *testing.T) {
		k1, k3 := d.kms(d.nodes[0]), d.kms(d.nodes[2])
		key, err := k1.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("cluster test")})
		if err != nil {
			t.Fatal(err)
		}
		id := key.KeyMetadata.KeyId
		body := random(20000)
		if _, err := n2.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("kms"), Body: bytes.NewReader(body),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: id}); err != nil {
			t.Fatalf("SSE-KMS put through node 2: %v", err)
		}
		got, err := get(ctx, n3, bucket, "kms")
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("SSE-KMS get through node 3: %v", err)
		}
		if _, err := k3.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
			t.Fatalf("encrypt through node 3: %v", err)
		}
		if _, err := k1.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id}); err != nil {
			t.Fatal(err)
		}
		disabled := time.Now()
		for {
			_, err := get(ctx, n3, bucket, "kms")
			if errorCode(err) == "KMS.DisabledException" {
				break
			}
			if err != nil {
				t.Fatalf("get through node 3 after disabling: %v, want KMS.DisabledException", err)
			}
			if time.Since(disabled) > keyStateBound {
				t.Fatalf("node 3 still decrypts %v after node 1 disabled the key", keyStateBound)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("node 3 refused the disabled key %v after node 1 disabled it", time.Since(disabled).Round(time.Millisecond))
		if _, err := k3.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); errorCode(err) != "DisabledException" {
			t.Fatalf("encrypt through node 3 with the disabled key: %v, want DisabledException", err)
		}
	})

	t.Run("Kill9MidTraffic", func(t *testing.T) {
		tctx, stop := context.WithCancel(ctx)
		var mu sync.Mutex
		acked := map[string][]byte{}
		afterKill := make([]atomic.Int32, 3)
		var killed atomic.Bool
		var wg sync.WaitGroup
		for w := range 6 {
			node := w % 3
			c := d.node(node)
			wg.Go(func() {
				for i := 0; tctx.Err() == nil; i++ {
					key := fmt.Sprintf("traffic/w%d/%d", w, i)
					body := random(2000 + i%7*3000)
					if err := put(tctx, c, bucket, key, body); err != nil {
						if node == 1 && killed.Load() || tctx.Err() != nil {
							continue // the killed node's writes fail; unacknowledged ones may or may not be there
						}
						t.Errorf("put %s through node %d: %v", key, node+1, err)
						return
					}
					mu.Lock()
					acked[key] = body
					mu.Unlock()
					if killed.Load() {
						afterKill[node].Add(1)
					}
				}
			})
		}
		time.Sleep(1500 * time.Millisecond)
		killed.Store(true)
		d.nodes[1].kill9()
		time.Sleep(1500 * time.Millisecond)
		stop()
		wg.Wait()
		if afterKill[0].Load() == 0 || afterKill[2].Load() == 0 {
			t.Fatalf("writes acknowledged after the kill: node 1 %d, node 3 %d; the others must keep serving", afterKill[0].Load(), afterKill[2].Load())
		}
		for key, body := range acked {
			got, err := get(ctx, []*s3.Client{n1, n3}[len(key)%2], bucket, key)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("acknowledged write %s after kill -9 of node 2: %d bytes, %v", key, len(got), err)
			}
		}
		t.Logf("%d acknowledged writes all read back; node 1 and node 3 acknowledged %d and %d after the kill", len(acked), afterKill[0].Load(), afterKill[2].Load())
	})
}
