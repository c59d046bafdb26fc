package object_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
)

// sseBenchModes are the encryptions the SSE benchmarks compare. "none" is an object stored
// before encryption existed (a record without Encryption, written to the stores directly): the
// plaintext path of the same code, for GETs.
var sseBenchModes = []struct {
	name string
	sse  object.SSE
}{
	{"none", object.SSE{}},
	{"s3", object.SSE{Algorithm: meta.SSES3}},
	{"kms", object.SSE{Algorithm: meta.SSEKMS}},
	{"kms-bucket-key", object.SSE{Algorithm: meta.SSEKMS, BucketKey: new(true)}},
	{"c", object.SSE{Algorithm: meta.SSEC}},
}

var sseBenchSizes = []int64{4 << 10, 1 << 20, 64 << 20}

// sseBench is a service on the embedded stores and the real KMS, with a bucket that takes
// SSE-C, and the requester every KMS call runs for.
type sseBench struct {
	svc   *object.Service
	ms    meta.Store
	blobs blob.Store
	ctx   context.Context
	ck    secret.Key
	body  []byte
}

const sseBenchBucket = "sse-bench"

func newSSEBench(b *testing.B) *sseBench {
	dir := b.TempDir()
	db, ms, blobs := realStores(b, dir)
	svc := object.New(object.Config{Meta: ms, Blobs: blobs, Keys: realKeys(b, db, dir)})
	const account = "111122223333"
	ctx := object.WithCaller(context.Background(), object.Caller{Account: account, ARN: "arn:aws:iam::" + account + ":root"})
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: sseBenchBucket}); err != nil {
		b.Fatal(err)
	}
	ck := secret.Generate()
	b.Cleanup(ck.Destroy)
	return &sseBench{svc: svc, ms: ms, blobs: blobs, ctx: ctx, ck: ck}
}

// put stores an object of size bytes under key, encrypted as mode asks; "none" writes a
// plaintext record and blob as a server before encryption did.
func (e *sseBench) put(b *testing.B, key, mode string, sse object.SSE, size int64) {
	if int64(len(e.body)) < size {
		e.body = make([]byte, size)
		for i := range e.body {
			e.body[i] = byte(i * 7)
		}
	}
	body := e.body[:size]
	if mode == "none" {
		blobName := "plain-" + key
		if _, err := e.blobs.Put(e.ctx, blobName, bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
		o := meta.Object{Bucket: sseBenchBucket, Key: key, Size: size, ETag: "plain",
			Parts: []meta.Part{{Blob: blobName, Size: size}}}
		if _, err := e.ms.PutObject(e.ctx, o); err != nil {
			b.Fatal(err)
		}
		return
	}
	if sse.Algorithm == meta.SSEC {
		sse.CustomerKey = e.ck
	}
	if _, err := e.svc.PutObject(e.ctx, object.PutInput{Bucket: sseBenchBucket, Key: key,
		Body: bytes.NewReader(body), Size: size, SSE: sse}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkGetObjectSSE reads whole objects through the service (open, unseal the key, decrypt,
// write to io.Discard), one at a time, in every mode: the server's own cost of a GET without
// HTTP and TLS. Compare the modes with the "none" row of the same size; cpu-ns/op (the
// process's CPU time per GET) stays put when other work shares the machine, ns/op does not.
func BenchmarkGetObjectSSE(b *testing.B) {
	e := newSSEBench(b)
	for _, size := range sseBenchSizes {
		for _, m := range sseBenchModes {
			b.Run(fmt.Sprintf("%s/%s", sizeLabel(size), m.name), func(b *testing.B) {
				key := fmt.Sprintf("get-%s-%d", m.name, size)
				e.put(b, key, m.name, m.sse, size)
				ck := secret.Key{}
				if m.sse.Algorithm == meta.SSEC {
					ck = e.ck
				}
				b.SetBytes(size)
				b.ReportAllocs()
				cpu := processCPU()
				for b.Loop() {
					_, rd, err := e.svc.OpenObject(e.ctx, sseBenchBucket, key, ck)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := rd.WriteRange(io.Discard, 0, size); err != nil {
						b.Fatal(err)
					}
					rd.Close()
				}
				b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// BenchmarkPutObjectSSE writes new objects through the service, one at a time, in every
// encrypted mode (a PUT always encrypts, so there is no "none" row). Each PUT syncs its blob
// (above the inline limit) or its record, so the figures include the disk.
func BenchmarkPutObjectSSE(b *testing.B) {
	e := newSSEBench(b)
	for _, size := range sseBenchSizes[:2] {
		for _, m := range sseBenchModes[1:] {
			b.Run(fmt.Sprintf("%s/%s", sizeLabel(size), m.name), func(b *testing.B) {
				b.SetBytes(size)
				b.ReportAllocs()
				n := 0
				cpu := processCPU()
				for b.Loop() {
					n++
					e.put(b, fmt.Sprintf("put-%s-%d-%d", m.name, size, n), m.name, m.sse, size)
				}
				b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

func sizeLabel(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}
