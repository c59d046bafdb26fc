package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/coffer/coffer/internal/blob"
)

// RunShared runs the cases for a store that several nodes share: open must return two Stores,
// as two nodes would open them, on one new empty backing store (a directory, a bucket
// prefix), and arrange their cleanup with t.Cleanup.
func RunShared(t *testing.T, open func(t *testing.T) (blob.Store, blob.Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b blob.Store)
	}{
		{"SameNameAcrossNodes", testSameNameAcrossNodes},
		{"SeenByOtherNode", testSeenByOtherNode},
		{"DeleteAcrossNodes", testDeleteAcrossNodes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := open(t)
			tc.fn(t, a, b)
		})
	}
}

// testSameNameAcrossNodes races Puts of the same names on two nodes: for each name exactly
// one wins, the other gets ErrExists, and both nodes read the winner's bytes.
func testSameNameAcrossNodes(t *testing.T, a, b blob.Store) {
	for i := range 20 {
		RacePut(t, []blob.Store{a, b}, fmt.Sprintf("race/%d", i), func(node int) []byte {
			return data(uint64(node*1000+i), 20000+i)
		})
	}
}

// RacePut puts name on every node at once, node n putting body(n), and checks that exactly
// one Put wins, the others get ErrExists, and every node then reads the winner's bytes. It
// returns the winner.
func RacePut(t *testing.T, nodes []blob.Store, name string, body func(node int) []byte) int {
	t.Helper()
	type result struct {
		node int
		err  error
	}
	res := make(chan result, len(nodes))
	for n, s := range nodes {
		go func() {
			_, err := s.Put(context.Background(), name, bytes.NewReader(body(n)))
			res <- result{n, err}
		}()
	}
	winner := -1
	for range nodes {
		r := <-res
		switch {
		case r.err == nil && winner >= 0:
			t.Fatalf("%s: Puts on node %d and node %d both succeeded", name, winner, r.node)
		case r.err == nil:
			winner = r.node
		case !errors.Is(r.err, blob.ErrExists):
			t.Fatalf("%s: losing Put = %v, want ErrExists", name, r.err)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: no Put succeeded", name)
	}
	want := body(winner)
	for _, s := range nodes {
		checkContent(t, s, name, want)
	}
	return winner
}

// testSeenByOtherNode checks that a blob another node put is readable whole, and its name
// taken, as soon as that Put returned.
func testSeenByOtherNode(t *testing.T, a, b blob.Store) {
	want := data(5, 70000)
	put(t, a, "seen/x", want)
	checkContent(t, b, "seen/x", want)
	if _, err := b.Put(context.Background(), "seen/x", bytes.NewReader([]byte("other"))); !errors.Is(err, blob.ErrExists) {
		t.Fatalf("Put on the other node = %v, want ErrExists", err)
	}
}

// testDeleteAcrossNodes checks that a blob one node deleted is gone for the other.
func testDeleteAcrossNodes(t *testing.T, a, b blob.Store) {
	ctx := context.Background()
	put(t, a, "del/x", []byte("x"))
	if err := b.Delete(ctx, "del/x"); err != nil {
		t.Fatalf("Delete on the other node: %v", err)
	}
	if r, err := a.Open(ctx, "del/x"); !errors.Is(err, blob.ErrNotFound) {
		if err == nil {
			r.Close()
		}
		t.Fatalf("Open after the other node's Delete = %v, want ErrNotFound", err)
	}
	if err := a.Delete(ctx, "del/x"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("second Delete = %v, want ErrNotFound", err)
	}
	put(t, a, "del/x", []byte("again")) // the name is free on every node
	checkContent(t, b, "del/x", []byte("again"))
}
