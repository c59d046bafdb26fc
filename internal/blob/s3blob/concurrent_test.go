package s3blob_test

import (
	"fmt"
	"testing"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/blobtest"
)

// TestConcurrentMultipartPuts races multipart Puts of the same names from two Stores, as two
// nodes would (blobtest.RunShared races single-request ones): the conditional
// CompleteMultipartUpload lets exactly one win, the other gets ErrExists, and the loser's
// upload is aborted.
func TestConcurrentMultipartPuts(t *testing.T) {
	c := startCoffer(t)
	prefix := c.freshPrefix()
	const size = 9 << 20 // two parts
	nodes := []blob.Store{storeCfg(t, c.config(prefix)), storeCfg(t, c.config(prefix))}
	for i := range 3 {
		blobtest.RacePut(t, nodes, fmt.Sprintf("race/%d", i), func(node int) []byte {
			return randomBytes(uint64(node), size)
		})
	}
	if ups := c.uploadsUnder(t, prefix); len(ups) != 0 {
		t.Fatalf("uploads left: %q", ups)
	}
}
