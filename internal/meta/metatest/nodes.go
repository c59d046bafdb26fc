package metatest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/meta"
)

// RunNodes runs the cases for concurrent writers on different nodes: open must return two
// stores on one fresh, empty shared state (two Coffer nodes on one database, each with its own
// connections) and arrange their cleanup with t.Cleanup. Writers on both stores race, and the
// writes must stay as atomic as they are on one store.
func RunNodes(t *testing.T, open func(t *testing.T) (meta.Store, meta.Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, nodes [2]meta.Store)
	}{
		{"SeeEachOther", testNodesSeeEachOther},
		{"ConditionalPut", testNodesConditionalPut},
		{"PutObjectOneKey", testNodesPutObjectOneKey},
		{"CompleteUpload", testNodesCompleteUpload},
		{"Intents", testNodesIntents},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := open(t)
			tc.fn(t, [2]meta.Store{a, b})
		})
	}
}

// testNodesSeeEachOther: a write acknowledged by one node is what the other reads next.
func testNodesSeeEachOther(t *testing.T, nodes [2]meta.Store) {
	a, b := nodes[0], nodes[1]
	mustBucket(t, a, "b")
	if _, err := b.GetBucket(ctx, "b"); err != nil {
		t.Fatalf("bucket created on node 1, GetBucket on node 2: %v", err)
	}
	for i := range 5 {
		writer, reader := nodes[i%2], nodes[(i+1)%2]
		mustPut(t, writer, object("b", "k", i))
		got, err := reader.GetObject(ctx, "b", "k")
		if err != nil {
			t.Fatal(err)
		}
		sameObject(t, "object read on the other node", got, object("b", "k", i))
	}
	if _, err := b.DeleteObject(ctx, "b", "k"); err != nil {
		t.Fatal(err)
	}
	_, err := a.GetObject(ctx, "b", "k")
	wantErr(t, "GetObject after a delete on the other node", err, meta.ErrNoSuchKey)
}

// testNodesConditionalPut: of create-if-absent writes (If-None-Match: *) racing on both nodes,
// exactly one wins, and the object is the winner's.
func testNodesConditionalPut(t *testing.T, nodes [2]meta.Store) {
	mustBucket(t, nodes[0], "b")
	absent := func(cur *meta.Object) error {
		if cur != nil {
			return errRefused
		}
		return nil
	}
	for round := range 4 {
		key := fmt.Sprint("race-", round)
		const racers = 8
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for w := range racers {
			wg.Go(func() { _, errs[w] = nodes[w%2].PutObject(ctx, object("b", key, w), absent) })
		}
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both created %q", round, winner, w, key)
			case err == nil:
				winner = w
			case !errors.Is(err, errRefused):
				t.Fatalf("round %d: writer %d = %v, want the condition's refusal", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer created %q", round, key)
		}
		for _, n := range nodes {
			got, err := n.GetObject(ctx, "b", key)
			if err != nil {
				t.Fatal(err)
			}
			sameObject(t, "object after the race", got, object("b", key, winner))
		}
	}
}

// testNodesPutObjectOneKey: PUTs to one key racing on both nodes replace each other in a
// chain, so every writer's blob is freed exactly once (as replaced) or is the final object's.
func testNodesPutObjectOneKey(t *testing.T, nodes [2]meta.Store) {
	mustBucket(t, nodes[0], "b")
	const n = 16
	replaced := make([]*meta.Object, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() { replaced[w], errs[w] = nodes[w%2].PutObject(ctx, object("b", "k", w)) })
	}
	wg.Wait()
	var blobs []string
	nils := 0
	for w := range n {
		if errs[w] != nil {
			t.Fatalf("PutObject %d: %v", w, errs[w])
		}
		if replaced[w] == nil {
			nils++
			continue
		}
		blobs = append(blobs, replaced[w].Parts[0].Blob)
	}
	if nils != 1 {
		t.Fatalf("%d writers replaced nothing, want exactly 1 (the first)", nils)
	}
	final, err := nodes[1].GetObject(ctx, "b", "k")
	if err != nil {
		t.Fatal(err)
	}
	blobs = append(blobs, final.Parts[0].Blob)
	slices.Sort(blobs)
	var want []string
	for w := range n {
		want = append(want, object("b", "k", w).Parts[0].Blob)
	}
	slices.Sort(want)
	if !slices.Equal(blobs, want) {
		t.Fatalf("replaced blobs plus the final object's = %q, want each writer's once: %q", blobs, want)
	}
}

// testNodesCompleteUpload: completions of one upload racing on both nodes: one wins, the
// others find the upload gone, and the unused part is returned for freeing exactly once.
func testNodesCompleteUpload(t *testing.T, nodes [2]meta.Store) {
	mustBucket(t, nodes[0], "b")
	for round := range 4 {
		id := fmt.Sprint("u", round)
		mustUpload(t, nodes[round%2], "b", "k", id)
		for i := 1; i <= 3; i++ {
			mustPart(t, nodes[i%2], "b", "k", id, part(i, fmt.Sprintf("%s-p%d", id, i)))
		}
		done := func(w int) meta.Object {
			o := small("b", "k", 100*round+w)
			o.UploadID = id
			o.Parts = []meta.Part{part(1, id+"-p1"), part(2, id+"-p2")} // part 3 unused
			return o
		}
		const n = 8
		unused := make([][]meta.Part, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for w := range n {
			wg.Go(func() { _, unused[w], errs[w] = nodes[w%2].CompleteUpload(ctx, id, done(w)) })
		}
		wg.Wait()
		winner := -1
		var freed []string
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: completions %d and %d both succeeded", round, winner, w)
			case err == nil:
				winner = w
			case !errors.Is(err, meta.ErrNoSuchUpload):
				t.Fatalf("round %d: losing completion %d = %v, want ErrNoSuchUpload", round, w, err)
			}
			for _, p := range unused[w] {
				freed = append(freed, p.Blob)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no completion succeeded", round)
		}
		if want := []string{id + "-p3"}; !slices.Equal(freed, want) {
			t.Fatalf("round %d: parts returned for freeing %q, want %q once", round, freed, want)
		}
		for _, node := range nodes {
			got, err := node.GetObject(ctx, "b", "k")
			if err != nil {
				t.Fatal(err)
			}
			sameObject(t, "completed object", got, done(winner))
			_, err = node.GetUpload(ctx, "b", "k", id)
			wantErr(t, "GetUpload after completion", err, meta.ErrNoSuchUpload)
		}
	}
}

// testNodesIntents: intents recorded on one node list on the other with their kinds, and both
// nodes dropping the same intents at once (two sweeps) both succeed and leave none.
func testNodesIntents(t *testing.T, nodes [2]meta.Store) {
	a, b := nodes[0], nodes[1]
	const n = 20
	for i := range n {
		kind := meta.IntentWrite
		if i%2 == 1 {
			kind = meta.IntentFreed
		}
		mustIntent(t, a, meta.Intent{Blob: fmt.Sprint("o/", i), Bucket: "b", Key: "k", Created: t0, Kind: kind})
	}
	ins, err := b.ListIntents(ctx, t0.Add(time.Second), 0)
	if err != nil || len(ins) != n {
		t.Fatalf("ListIntents on the other node = %d intents, %v; want %d", len(ins), err, n)
	}
	freed := 0
	for _, in := range ins {
		if in.Kind == meta.IntentFreed {
			freed++
		}
	}
	if freed != n/2 {
		t.Fatalf("%d freed intents on the other node, want %d", freed, n/2)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for _, s := range nodes {
		wg.Go(func() {
			for _, in := range ins {
				errs <- s.DropIntent(ctx, in.Blob)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("DropIntent racing the other node: %v", err)
		}
	}
	if left := intentBlobs(t, a, t0.Add(time.Second)); len(left) != 0 {
		t.Fatalf("intents left after both nodes dropped them: %q", left)
	}
}
