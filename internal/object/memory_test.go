package object_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
)

// allocatedBy returns the fewest bytes the heap grew by over three runs of f: one run can pay
// for a pooled buffer that a garbage collection emptied, the fewest cannot.
func allocatedBy(t *testing.T, f func(), enough uint64) uint64 {
	t.Helper()
	// The least of several runs: under the race detector sync.Pool drops a quarter of what is
	// put back, so a single run may miss a pooled window (a DSSE-KMS read takes two) and pay
	// for a new one. Ten runs miss both windows every time with odds of about 1 in 3,000;
	// the runs stop as soon as one allocated no more than enough.
	least := ^uint64(0)
	for range 10 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
		if least <= enough {
			break
		}
	}
	return least
}

// TestMemoryFlatInObjectSize writes and reads whole encrypted objects of 1 MiB and 64 MiB in
// every mode and checks that the bytes allocated do not grow with the size, and stay small:
// bodies stream through fixed, pooled buffers (the read windows, the blob store's copy
// buffer), never whole.
func TestMemoryFlatInObjectSize(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 64 MiB objects")
	}
	const small, large = 1 << 20, 64 << 20
	// slack covers what varies between runs (map growth, a record's size); the bodies
	// differ by 63 MiB.
	const slack = 64 << 10
	// perRequest bounds what one request allocates: the read windows (about 1 MiB each) and
	// the blob store's copy buffer come from pools, so none of them is paid per request.
	const perRequest = 256 << 10
	dir := t.TempDir()
	db, ms, blobs := realStores(t, dir)
	svc := object.New(object.Config{Meta: ms, Blobs: blobs, Keys: realKeys(t, db, dir)})
	const account = "111122223333"
	ctx := object.WithCaller(context.Background(), object.Caller{Account: account, ARN: "arn:aws:iam::" + account + ":root"})
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "mem"}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("coffer"), large/6+1)[:large]
	ck := secret.Generate()
	defer ck.Destroy()
	for _, m := range []struct {
		name string
		sse  object.SSE
	}{
		{"SSE-S3", object.SSE{Algorithm: meta.SSES3}},
		{"SSE-KMS", object.SSE{Algorithm: meta.SSEKMS}},
		{"DSSE-KMS", object.SSE{Algorithm: meta.SSEKMSDSSE}},
		{"SSE-C", object.SSE{Algorithm: meta.SSEC, CustomerKey: ck}},
	} {
		t.Run(m.name, func(t *testing.T) {
			readKey := secret.Key{}
			if m.sse.Algorithm == meta.SSEC {
				readKey = ck
			}
			written := map[int64]int{} // objects written of each size
			put := func(size int64) func() {
				return func() {
					written[size]++
					_, err := svc.PutObject(ctx, object.PutInput{Bucket: "mem", Key: fmt.Sprint(m.name, size, written[size]),
						Body: bytes.NewReader(body[:size]), Size: size, SSE: m.sse})
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			get := func(size int64) func() {
				key := fmt.Sprint(m.name, size, 1)
				return func() {
					_, rd, err := svc.OpenObject(ctx, "mem", key, readKey)
					if err != nil {
						t.Fatal(err)
					}
					defer rd.Close()
					if got, err := rd.WriteRange(io.Discard, 0, size); err != nil || got != size {
						t.Fatalf("WriteRange = %d, %v", got, err)
					}
				}
			}
			putSmall := allocatedBy(t, put(small), perRequest)
			putLarge := allocatedBy(t, put(large), min(putSmall+slack, perRequest))
			if putLarge > putSmall+slack {
				t.Errorf("PUT allocated %d bytes for 64 MiB, %d for 1 MiB", putLarge, putSmall)
			}
			getSmall := allocatedBy(t, get(small), perRequest)
			getLarge := allocatedBy(t, get(large), min(getSmall+slack, perRequest))
			if getLarge > getSmall+slack {
				t.Errorf("GET allocated %d bytes for 64 MiB, %d for 1 MiB", getLarge, getSmall)
			}
			if putLarge > perRequest || getLarge > perRequest {
				t.Errorf("a request allocated more than %d bytes: PUT %d, GET %d", perRequest, putLarge, getLarge)
			}
			t.Logf("bytes allocated: PUT %d (1 MiB) %d (64 MiB), GET %d (1 MiB) %d (64 MiB)", putSmall, putLarge, getSmall, getLarge)
		})
	}
}
