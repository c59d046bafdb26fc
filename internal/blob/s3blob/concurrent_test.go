package s3blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/coffer/coffer/internal/blob"
)

// TestConcurrentMultipartPuts races multipart Puts of the same names from two Stores, as two
// nodes would (blobtest.RunShared races single-request ones): the conditional
// CompleteMultipartUpload lets exactly one win, the other gets ErrExists, and the loser's
// upload is aborted.
func TestConcurrentMultipartPuts(t *testing.T) {
	c := startCoffer(t)
	prefix := c.freshPrefix()
	const size = 9 << 20 // two parts
	nodes := [2]blob.Store{storeCfg(t, c.config(prefix)), storeCfg(t, c.config(prefix))}
	type result struct {
		node int
		err  error
	}
	for i := range 3 {
		name := fmt.Sprintf("race/%d", i)
		res := make(chan result, 2)
		for node, s := range nodes {
			go func() {
				_, err := s.Put(context.Background(), name, bytes.NewReader(randomBytes(uint64(node), size)))
				res <- result{node, err}
			}()
		}
		winner := -1
		for range nodes {
			r := <-res
			switch {
			case r.err == nil && winner >= 0:
				t.Fatalf("%s: both nodes' Puts succeeded", name)
			case r.err == nil:
				winner = r.node
			case !errors.Is(r.err, blob.ErrExists):
				t.Fatalf("%s: losing Put = %v, want ErrExists", name, r.err)
			}
		}
		if winner < 0 {
			t.Fatalf("%s: no Put succeeded", name)
		}
		for node, s := range nodes {
			if got := readAll(t, s, name); !bytes.Equal(got, randomBytes(uint64(winner), size)) {
				t.Fatalf("%s read through node %d: not the winner's bytes", name, node)
			}
		}
	}
	if ups := c.uploadsUnder(t, prefix); len(ups) != 0 {
		t.Fatalf("uploads left: %q", ups)
	}
}

func readAll(t *testing.T, s blob.Store, name string) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	defer r.Close()
	b := make([]byte, r.Size())
	if _, err := r.ReadAt(b, 0); err != nil {
		t.Fatalf("read %q: %v", name, err)
	}
	return b
}
