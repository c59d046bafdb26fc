package trailtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/coffer/coffer/internal/trail"
)

// RunNodes runs the cases for concurrent writers on different nodes: open must return two
// stores on one fresh, empty shared state (two Coffer nodes on one database, each with its own
// connections) and arrange their cleanup with t.Cleanup. Writers on both stores race, and
// creation, the per-account limit and updates must stay as atomic as they are on one store.
func RunNodes(t *testing.T, open func(t *testing.T) (trail.Store, trail.Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, nodes [2]trail.Store)
	}{
		{"SeeEachOther", testNodesSeeEachOther},
		{"CreateOneName", testNodesCreateOneName},
		{"LimitPerAccount", testNodesLimit},
		{"CursorAdvancesOnce", testNodesCursorAdvancesOnce},
		{"UpdatesNotLost", testNodesUpdatesNotLost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := open(t)
			tc.fn(t, [2]trail.Store{a, b})
		})
	}
}

// testNodesSeeEachOther: a trail created, updated or deleted through one node is what the
// other reads next.
func testNodesSeeEachOther(t *testing.T, nodes [2]trail.Store) {
	ctx := context.Background()
	a, b := nodes[0], nodes[1]
	if err := a.Create(ctx, sample(acctA, "main"), 5); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Get(ctx, acctA, "main"); err != nil || got.Delivery.Cursor != "logs/x" {
		t.Fatalf("Get on node 2 after Create on node 1 = %+v, %v", got.Delivery, err)
	}
	if _, err := b.Update(ctx, acctA, "main", func(tr *trail.Trail) error { tr.Status.IsLogging = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Get(ctx, acctA, "main"); err != nil || got.Status.IsLogging {
		t.Fatalf("Get on node 1 after StopLogging's update on node 2 = %+v, %v", got.Status, err)
	}
	if err := a.Delete(ctx, acctA, "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, acctA, "main"); !errors.Is(err, trail.ErrTrailNotFound) {
		t.Fatalf("Get on node 2 after Delete on node 1: %v, want ErrTrailNotFound", err)
	}
}

// testNodesCreateOneName: of creations of one trail racing on both nodes, exactly one wins and
// the others get ErrTrailExists.
func testNodesCreateOneName(t *testing.T, nodes [2]trail.Store) {
	ctx := context.Background()
	for round := range 4 {
		name := fmt.Sprint("trail-", round)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for w := range errs {
			tr := sample(acctA, name)
			tr.S3KeyPrefix = fmt.Sprint("w", w)
			wg.Go(func() { errs[w] = nodes[w%2].Create(ctx, tr, 100) })
		}
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: creators %d and %d both made %s", round, winner, w, name)
			case err == nil:
				winner = w
			case !errors.Is(err, trail.ErrTrailExists):
				t.Fatalf("round %d: creator %d = %v, want ErrTrailExists", round, w, err)
			}
		}
		for i, n := range nodes {
			if got, err := n.Get(ctx, acctA, name); err != nil || got.S3KeyPrefix != fmt.Sprint("w", winner) {
				t.Fatalf("round %d: node %d reads %q, %v; want the winner's (%d)", round, i+1, got.S3KeyPrefix, err, winner)
			}
		}
	}
}

// testNodesLimit: trails of one account created on both nodes at once stop at the limit.
func testNodesLimit(t *testing.T, nodes [2]trail.Store) {
	ctx := context.Background()
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() { errs[w] = nodes[w%2].Create(ctx, sample(acctA, fmt.Sprint("t", w)), 3) })
	}
	wg.Wait()
	made := 0
	for w, err := range errs {
		switch {
		case err == nil:
			made++
		case !errors.Is(err, trail.ErrTooManyTrails):
			t.Fatalf("creator %d = %v, want ErrTooManyTrails", w, err)
		}
	}
	ts, err := nodes[1].List(ctx, acctA)
	if err != nil || made != 3 || len(ts) != 3 {
		t.Fatalf("%d made, %d listed (%v); want 3", made, len(ts), err)
	}
}

// testNodesCursorAdvancesOnce: deliveries on both nodes that read the same cursor and advance
// it only from there (as Deliverer does) race: exactly one advances it, the others find it
// moved.
func testNodesCursorAdvancesOnce(t *testing.T, nodes [2]trail.Store) {
	ctx := context.Background()
	if err := nodes[0].Create(ctx, sample(acctA, "main"), 5); err != nil {
		t.Fatal(err)
	}
	moved := errors.New("cursor moved")
	for round := range 4 {
		prev, err := nodes[round%2].Get(ctx, acctA, "main")
		if err != nil {
			t.Fatal(err)
		}
		errs := make([]error, 6)
		var wg sync.WaitGroup
		for w := range errs {
			wg.Go(func() {
				_, errs[w] = nodes[w%2].Update(ctx, acctA, "main", func(tr *trail.Trail) error {
					if tr.Delivery.Cursor != prev.Delivery.Cursor {
						return moved
					}
					tr.Delivery.Cursor = fmt.Sprintf("logs/%d-%d", round, w)
					tr.Delivery.Pending = append(tr.Delivery.Pending, trail.DeliveredLog{S3Object: tr.Delivery.Cursor})
					return nil
				})
			})
		}
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: updates %d and %d both advanced the cursor", round, winner, w)
			case err == nil:
				winner = w
			case !errors.Is(err, moved):
				t.Fatalf("round %d: update %d = %v, want the refusal", round, w, err)
			}
		}
		got, err := nodes[(round+1)%2].Get(ctx, acctA, "main")
		want := fmt.Sprintf("logs/%d-%d", round, winner)
		if err != nil || got.Delivery.Cursor != want || len(got.Delivery.Pending) != len(prev.Delivery.Pending)+1 {
			t.Fatalf("round %d: cursor %q with %d pending (%v); want %q with %d", round, got.Delivery.Cursor,
				len(got.Delivery.Pending), err, want, len(prev.Delivery.Pending)+1)
		}
	}
}

// testNodesUpdatesNotLost: updates on both nodes at once each apply to the result of the one
// before: none is lost.
func testNodesUpdatesNotLost(t *testing.T, nodes [2]trail.Store) {
	ctx := context.Background()
	if err := nodes[0].Create(ctx, sample(acctA, "main"), 5); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 20 {
		wg.Go(func() {
			if _, err := nodes[w%2].Update(ctx, acctA, "main", func(tr *trail.Trail) error {
				tr.Delivery.Pending = append(tr.Delivery.Pending, trail.DeliveredLog{S3Object: fmt.Sprint(w)})
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	tr, err := nodes[1].Get(ctx, acctA, "main")
	if err != nil || len(tr.Delivery.Pending) != 21 {
		t.Fatalf("after 20 appends on two nodes: %d pending, %v; want 21", len(tr.Delivery.Pending), err)
	}
}
