package iamtest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/coffer/coffer/internal/iam"
)

// RunNodes runs the cases for concurrent writers on different nodes: open must return two
// stores on one fresh, empty shared state (two Coffer nodes on one database, each with its own
// connections) and arrange their cleanup with t.Cleanup. Writers on both stores race, and
// uniqueness, quotas and delete conflicts must hold as they do on one store.
func RunNodes(t *testing.T, open func(t *testing.T) (iam.Store, iam.Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, nodes [2]iam.Store)
	}{
		{"SeeEachOther", testNodesSeeEachOther},
		{"CreateUserOneName", testNodesCreateUserOneName},
		{"AccessKeyLimit", testNodesAccessKeyLimit},
		{"DeleteUserWhileKeyMade", testNodesDeleteUserWhileKeyMade},
		{"DeletePolicyWhileAttached", testNodesDeletePolicyWhileAttached},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := open(t)
			tc.fn(t, [2]iam.Store{a, b})
		})
	}
}

// testNodesSeeEachOther: an access key made, disabled or deleted through one node is what the
// other reads next, sealed secret included.
func testNodesSeeEachOther(t *testing.T, nodes [2]iam.Store) {
	a, b := nodes[0], nodes[1]
	seed(t, a)
	wantErr(t, "CreateUser on node 1", a.CreateUser(ctx(), iam.User{Account: acctA, Name: "alice", Path: "/"}), nil)
	k := iam.AccessKey{ID: "AKIANODE", Account: acctA, UserName: "alice", Status: iam.StatusActive, Created: t0, SealedSecret: []byte{0, 1, 0xfe, 0xff}}
	wantErr(t, "CreateAccessKey on node 1", a.CreateAccessKey(ctx(), k, 2), nil)
	got, err := b.GetAccessKey(ctx(), k.ID)
	wantErr(t, "GetAccessKey on node 2", err, nil)
	if got.Status != iam.StatusActive || !bytes.Equal(got.SealedSecret, k.SealedSecret) || !got.Created.Equal(t0) {
		t.Fatalf("key read on node 2 = %+v, want %+v", got, k)
	}
	wantErr(t, "SetAccessKeyStatus on node 2", b.SetAccessKeyStatus(ctx(), acctA, "alice", k.ID, iam.StatusInactive), nil)
	if got, err := a.GetAccessKey(ctx(), k.ID); err != nil || got.Status != iam.StatusInactive {
		t.Fatalf("key on node 1 after disabling on node 2 = %+v, %v", got, err)
	}
	wantErr(t, "DeleteAccessKey on node 1", a.DeleteAccessKey(ctx(), acctA, "alice", k.ID), nil)
	_, err = b.GetAccessKey(ctx(), k.ID)
	wantErr(t, "GetAccessKey on node 2 after delete on node 1", err, iam.ErrNoSuchEntity)
}

// testNodesCreateUserOneName: of creations of one user name (in different cases) racing on
// both nodes, exactly one wins, the others get ErrEntityExists, and both nodes read the winner.
func testNodesCreateUserOneName(t *testing.T, nodes [2]iam.Store) {
	seed(t, nodes[0])
	for round := range 4 {
		name := fmt.Sprint("user", round)
		const racers = 8
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for w := range racers {
			spelling := name
			if w%3 == 1 {
				spelling = strings.ToUpper(name)
			}
			wg.Go(func() {
				errs[w] = nodes[w%2].CreateUser(ctx(), iam.User{Account: acctA, Name: spelling, Path: "/", ID: fmt.Sprint("AIDA", w)})
			})
		}
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: creators %d and %d both made %s", round, winner, w, name)
			case err == nil:
				winner = w
			case !errors.Is(err, iam.ErrEntityExists):
				t.Fatalf("round %d: creator %d = %v, want ErrEntityExists", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody made %s", round, name)
		}
		for i, n := range nodes {
			u, err := n.GetUser(ctx(), acctA, name)
			if err != nil || u.ID != fmt.Sprint("AIDA", winner) {
				t.Fatalf("round %d: node %d reads %+v, %v; want the winner's (%d)", round, i+1, u, err, winner)
			}
		}
	}
}

// testNodesAccessKeyLimit: keys made for one user on both nodes at once stop at the quota.
func testNodesAccessKeyLimit(t *testing.T, nodes [2]iam.Store) {
	seed(t, nodes[0])
	wantErr(t, "CreateUser", nodes[0].CreateUser(ctx(), iam.User{Account: acctA, Name: "alice", Path: "/"}), nil)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			errs[w] = nodes[w%2].CreateAccessKey(ctx(), iam.AccessKey{ID: fmt.Sprint("AKIAN", w), Account: acctA, UserName: "alice"}, 2)
		})
	}
	wg.Wait()
	ok := 0
	for w, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, iam.ErrLimitExceeded):
			t.Errorf("creator %d = %v, want ErrLimitExceeded", w, err)
		}
	}
	for i, n := range nodes {
		ks, err := n.ListAccessKeys(ctx(), acctA, "alice")
		if err != nil || len(ks) != ok || ok != 2 {
			t.Fatalf("node %d lists %d keys (%v), %d made; want 2", i+1, len(ks), err, ok)
		}
	}
}

// testNodesDeleteUserWhileKeyMade: a user deleted on one node while a key is made for it on the
// other: one of the two fails, so no key outlives its user.
func testNodesDeleteUserWhileKeyMade(t *testing.T, nodes [2]iam.Store) {
	seed(t, nodes[0])
	for round := range 6 {
		name := fmt.Sprint("u", round)
		wantErr(t, "CreateUser", nodes[0].CreateUser(ctx(), iam.User{Account: acctA, Name: name, Path: "/"}), nil)
		var delErr, keyErr error
		var wg sync.WaitGroup
		wg.Go(func() { delErr = nodes[round%2].DeleteUser(ctx(), acctA, name) })
		wg.Go(func() {
			keyErr = nodes[(round+1)%2].CreateAccessKey(ctx(), iam.AccessKey{ID: fmt.Sprint("AKIAD", round), Account: acctA, UserName: name}, 2)
		})
		wg.Wait()
		switch {
		case delErr == nil && keyErr == nil:
			t.Fatalf("round %d: the user was deleted and a key made for it", round)
		case delErr == nil:
			wantErr(t, "CreateAccessKey for a user deleted meanwhile", keyErr, iam.ErrNoSuchEntity)
		case keyErr == nil:
			wantErr(t, "DeleteUser of a user given a key meanwhile", delErr, iam.ErrDeleteConflict)
		default:
			t.Fatalf("round %d: both failed: %v; %v", round, delErr, keyErr)
		}
	}
}

// testNodesDeletePolicyWhileAttached: a managed policy deleted on one node while it is attached
// on the other: one of the two fails, so no attachment names a deleted policy.
func testNodesDeletePolicyWhileAttached(t *testing.T, nodes [2]iam.Store) {
	seed(t, nodes[0])
	wantErr(t, "CreateUser", nodes[0].CreateUser(ctx(), iam.User{Account: acctA, Name: "alice", Path: "/"}), nil)
	alice := iam.Entity{Kind: iam.KindUser, Account: acctA, Name: "alice"}
	for round := range 6 {
		name := fmt.Sprint("p", round)
		wantErr(t, "CreatePolicy", nodes[0].CreatePolicy(ctx(), iam.ManagedPolicy{Account: acctA, Name: name, Path: "/"}), nil)
		var delErr, attachErr error
		var wg sync.WaitGroup
		wg.Go(func() { delErr = nodes[round%2].DeletePolicy(ctx(), acctA, name) })
		wg.Go(func() { attachErr = nodes[(round+1)%2].AttachPolicy(ctx(), alice, name) })
		wg.Wait()
		switch {
		case delErr == nil && attachErr == nil:
			t.Fatalf("round %d: the policy was deleted and attached", round)
		case delErr == nil:
			wantErr(t, "AttachPolicy of a policy deleted meanwhile", attachErr, iam.ErrNoSuchEntity)
		case attachErr == nil:
			wantErr(t, "DeletePolicy of a policy attached meanwhile", delErr, iam.ErrDeleteConflict)
		default:
			t.Fatalf("round %d: both failed: %v; %v", round, delErr, attachErr)
		}
	}
	ps, err := nodes[1].ListAttachedPolicies(ctx(), alice)
	wantErr(t, "ListAttachedPolicies", err, nil)
	for _, p := range ps {
		if _, err := nodes[0].GetPolicy(ctx(), acctA, p.Name); err != nil {
			t.Errorf("attached policy %s: %v", p.Name, err)
		}
	}
}
