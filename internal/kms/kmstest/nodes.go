package kmstest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/coffer/coffer/internal/kms"
)

// RunNodes runs the cases for concurrent writers on different nodes: open must return two
// stores on one fresh, empty shared state (two Coffer nodes on one database, each with its own
// connections; a backend of one process may return one store twice) and arrange their
// cleanup with t.Cleanup. Writers on both stores race, and the quota, unique names, updates
// and deletions must hold as they do on one store.
func RunNodes(t *testing.T, open func(t *testing.T) (kms.Store, kms.Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, nodes [2]kms.Store)
	}{
		{"SeeEachOther", testNodesSeeEachOther},
		{"KeyQuotaLastPlace", testNodesKeyQuotaLastPlace},
		{"AliasOneName", testNodesAliasOneName},
		{"UpdateKeyLosesNothing", testNodesUpdateKeyLosesNothing},
		{"DeleteKeyWhileGrantPut", testNodesDeleteKeyWhileGrantPut},
		{"PutCanaryOnce", testNodesPutCanaryOnce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := open(t)
			tc.fn(t, [2]kms.Store{a, b})
		})
	}
}

const nodeAcct = "111122223333"

// race runs fn(w) for w in [0, n) at once and returns their errors.
func race(n int, fn func(w int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() { errs[w] = fn(w) })
	}
	wg.Wait()
	return errs
}

// oneWinner fails t unless exactly one of errs is nil and the others are lose; it returns
// the winner.
func oneWinner(t *testing.T, what string, errs []error, lose error) int {
	t.Helper()
	winner := -1
	for w, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("%s: racers %d and %d both won", what, winner, w)
		case err == nil:
			winner = w
		case !errors.Is(err, lose):
			t.Fatalf("%s: racer %d = %v, want %v", what, w, err, lose)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: nobody won", what)
	}
	return winner
}

// testNodesSeeEachOther: a key made on one node, changed on the other and deleted on the
// first is what each reads next, sealed material included.
func testNodesSeeEachOther(t *testing.T, nodes [2]kms.Store) {
	a, b := nodes[0], nodes[1]
	mustCreate(t, a, key(nodeAcct, "k1"))
	got, err := b.GetKey(ctx, "k1")
	if err != nil || string(got.Versions[0].Sealed) != string(key(nodeAcct, "k1").Versions[0].Sealed) {
		t.Fatalf("node 2 reads %+v, %v", got, err)
	}
	if _, err := b.UpdateKey(ctx, "k1", func(k *kms.Key) error { k.State = kms.StateDisabled; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := a.GetKey(ctx, "k1"); err != nil || got.State != kms.StateDisabled {
		t.Fatalf("node 1 after disabling on node 2: %+v, %v", got, err)
	}
	if err := a.DeleteKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetKey(ctx, "k1"); !errors.Is(err, kms.ErrStoreNoSuchKey) {
		t.Fatalf("node 2 after deletion on node 1: %v", err)
	}
}

// testNodesKeyQuotaLastPlace: customer managed keys created on both nodes at once stop at
// the quota: exactly quota keys exist, the others got ErrStoreQuota.
func testNodesKeyQuotaLastPlace(t *testing.T, nodes [2]kms.Store) {
	const quota = 4
	mustCreate(t, nodes[0], key(nodeAcct, "k-first"))
	errs := race(12, func(w int) error {
		return nodes[w%2].CreateKey(ctx, key(nodeAcct, fmt.Sprint("k", w)), nil, quota)
	})
	made := 1
	for w, err := range errs {
		switch {
		case err == nil:
			made++
		case !errors.Is(err, kms.ErrStoreQuota):
			t.Errorf("creator %d = %v, want ErrStoreQuota", w, err)
		}
	}
	for i, n := range nodes {
		ks, err := n.ListKeys(ctx, nodeAcct, "", 0)
		if err != nil || len(ks) != quota || made != quota {
			t.Fatalf("node %d lists %d keys (%v), %d made; want %d", i+1, len(ks), err, made, quota)
		}
	}
	if err := nodes[1].DeleteKey(ctx, "k-first"); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].CreateKey(ctx, key(nodeAcct, "k-after"), nil, quota); err != nil {
		t.Fatalf("the place freed on node 2, taken on node 1: %v", err)
	}
}

// testNodesAliasOneName: of creations of one alias name racing on both nodes, exactly one
// wins, the others get ErrStoreAliasExists, and both nodes read the winner's target.
func testNodesAliasOneName(t *testing.T, nodes [2]kms.Store) {
	const racers = 6
	for w := range racers {
		mustCreate(t, nodes[0], key(nodeAcct, fmt.Sprint("k", w)))
	}
	for round := range 4 {
		name := fmt.Sprint("alias/race", round)
		errs := race(racers, func(w int) error {
			a := &kms.Alias{Account: nodeAcct, Name: name, KeyID: fmt.Sprint("k", w)}
			if w%3 == 2 {
				// The alias made with a new key, as CreateKey with an alias does.
				return nodes[w%2].CreateKey(ctx, key(nodeAcct, fmt.Sprint("k", round, "-", w)), &kms.Alias{Account: nodeAcct, Name: name, KeyID: fmt.Sprint("k", round, "-", w)}, 0)
			}
			return nodes[w%2].PutAlias(ctx, *a, true)
		})
		winner := oneWinner(t, name, errs, kms.ErrStoreAliasExists)
		want := fmt.Sprint("k", winner)
		if winner%3 == 2 {
			want = fmt.Sprint("k", round, "-", winner)
		}
		for i, n := range nodes {
			if a, err := n.GetAlias(ctx, nodeAcct, name); err != nil || a.KeyID != want {
				t.Fatalf("round %d: node %d reads %+v, %v; want target %s", round, i+1, a, err, want)
			}
		}
	}
}

// testNodesUpdateKeyLosesNothing: increments of one key's counter on both nodes at once are
// all kept: each update sees the one before it, whichever node made it.
func testNodesUpdateKeyLosesNothing(t *testing.T, nodes [2]kms.Store) {
	mustCreate(t, nodes[0], key(nodeAcct, "k1"))
	const updaters, each = 10, 2
	errs := race(updaters, func(w int) error {
		for range each {
			if _, err := nodes[w%2].UpdateKey(ctx, "k1", func(k *kms.Key) error { k.Rotation.OnDemand++; return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	for w, err := range errs {
		if err != nil {
			t.Fatalf("updater %d: %v", w, err)
		}
	}
	for i, n := range nodes {
		if k, err := n.GetKey(ctx, "k1"); err != nil || k.Rotation.OnDemand != updaters*each {
			t.Fatalf("node %d reads the counter at %d (%v), want %d", i+1, k.Rotation.OnDemand, err, updaters*each)
		}
	}
}

// testNodesDeleteKeyWhileGrantPut: a key deleted on one node while a grant is put on it on the
// other: the deletion wins whole (the grant fails with ErrStoreNoSuchKey or is deleted with
// the key), so no grant is left naming a missing key.
func testNodesDeleteKeyWhileGrantPut(t *testing.T, nodes [2]kms.Store) {
	for round := range 8 {
		id := fmt.Sprint("k", round)
		mustCreate(t, nodes[0], key(nodeAcct, id))
		var delErr, grantErr error
		var wg sync.WaitGroup
		wg.Go(func() { delErr = nodes[round%2].DeleteKey(ctx, id) })
		wg.Go(func() { grantErr = nodes[(round+1)%2].PutGrant(ctx, kms.Grant{KeyID: id, GrantID: "g"}) })
		wg.Wait()
		if delErr != nil {
			t.Fatalf("round %d: DeleteKey = %v", round, delErr)
		}
		if grantErr != nil && !errors.Is(grantErr, kms.ErrStoreNoSuchKey) {
			t.Fatalf("round %d: PutGrant on a key deleted meanwhile = %v, want ErrStoreNoSuchKey", round, grantErr)
		}
	}
	for i, n := range nodes {
		err := n.ScanGrants(ctx, func(g kms.Grant) bool {
			t.Errorf("node %d: grant %s names deleted key %s", i+1, g.GrantID, g.KeyID)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// testNodesPutCanaryOnce: of canaries stored on both nodes at once, exactly one is kept, the
// others get ErrStoreKeyExists, and both nodes read the winner's.
func testNodesPutCanaryOnce(t *testing.T, nodes [2]kms.Store) {
	errs := race(6, func(w int) error { return nodes[w%2].PutCanary(ctx, fmt.Appendf(nil, "sealed-%d", w)) })
	winner := oneWinner(t, "PutCanary", errs, kms.ErrStoreKeyExists)
	for i, n := range nodes {
		if got, err := n.Canary(ctx); err != nil || string(got) != fmt.Sprint("sealed-", winner) {
			t.Fatalf("node %d reads canary %q, %v; want the winner's (%d)", i+1, got, err, winner)
		}
	}
}
