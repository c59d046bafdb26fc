// Package kmstest is the conformance suite every kms.Store backend must pass.
package kmstest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
)

// Run runs the suite; open returns a new, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) kms.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s kms.Store)
	}{
		{"CreateGet", testCreateGet},
		{"UpdateKey", testUpdateKey},
		{"DeleteKey", testDeleteKey},
		{"ListKeys", testListKeys},
		{"ScanKeys", testScanKeys},
		{"Aliases", testAliases},
		{"Grants", testGrants},
		{"Canary", testCanary},
		{"UpgradeRecords", testUpgradeRecords},
		{"KeyStores", testKeyStores},
		{"KeyQuota", testKeyQuota},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = context.Background()

func key(account, id string) *kms.Key {
	return &kms.Key{
		ID: id, Account: account, Manager: kms.ManagerCustomer, Spec: kms.SpecSymmetric, Usage: kms.UsageEncryptDecrypt,
		Origin: kms.OriginAWSKMS, State: kms.StateEnabled, Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Policy: `{"Statement":[]}`, Tags: []kms.Tag{{TagKey: "a", TagValue: "b"}},
		Versions: []kms.Version{{Number: 1, MaterialID: "m1", Sealed: []byte{1, 2, 3}, Slot: 7, Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
	}
}

func mustCreate(t *testing.T, s kms.Store, k *kms.Key) {
	t.Helper()
	if err := s.CreateKey(ctx, k, nil, 0); err != nil {
		t.Fatal(err)
	}
}

func testCreateGet(t *testing.T, s kms.Store) {
	k := key("111111111111", "k1")
	mustCreate(t, s, k)
	got, err := s.GetKey(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != k.ID || got.Account != k.Account || got.Policy != k.Policy || len(got.Versions) != 1 ||
		string(got.Versions[0].Sealed) != string(k.Versions[0].Sealed) || got.Versions[0].Slot != k.Versions[0].Slot || !got.Created.Equal(k.Created) || got.Tags[0] != k.Tags[0] {
		t.Fatalf("GetKey = %+v, want %+v", got, k)
	}
	if err := s.CreateKey(ctx, key("111111111111", "k1"), nil, 0); !errors.Is(err, kms.ErrStoreKeyExists) {
		t.Fatalf("second CreateKey = %v, want ErrStoreKeyExists", err)
	}
	withAlias := kms.Alias{Account: "111111111111", Name: "alias/with", KeyID: "k2"}
	if err := s.CreateKey(ctx, key("111111111111", "k2"), &withAlias, 0); err != nil {
		t.Fatal(err)
	}
	if a, err := s.GetAlias(ctx, "111111111111", "alias/with"); err != nil || a.KeyID != "k2" {
		t.Fatalf("alias created with the key: %+v %v", a, err)
	}
	withAlias.KeyID = "k3"
	if err := s.CreateKey(ctx, key("111111111111", "k3"), &withAlias, 0); !errors.Is(err, kms.ErrStoreAliasExists) {
		t.Fatalf("CreateKey with a taken alias = %v", err)
	}
	if _, err := s.GetKey(ctx, "k3"); !errors.Is(err, kms.ErrStoreNoSuchKey) {
		t.Fatal("CreateKey stored the key although its alias failed")
	}
	if _, err := s.GetKey(ctx, "nope"); !errors.Is(err, kms.ErrStoreNoSuchKey) {
		t.Fatalf("GetKey(nope) = %v", err)
	}
}

func testUpdateKey(t *testing.T, s kms.Store) {
	mustCreate(t, s, key("111111111111", "k1"))
	got, err := s.UpdateKey(ctx, "k1", func(k *kms.Key) error {
		k.State = kms.StateDisabled
		k.Account = "999999999999" // identity changes are ignored
		return nil
	})
	if err != nil || got.State != kms.StateDisabled || got.Account != "111111111111" {
		t.Fatalf("UpdateKey = %+v, %v", got, err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateKey(ctx, "k1", func(k *kms.Key) error { k.State = kms.StateEnabled; return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateKey with failing fn = %v", err)
	}
	if k, _ := s.GetKey(ctx, "k1"); k.State != kms.StateDisabled {
		t.Fatal("a failed update was written")
	}
	if _, err := s.UpdateKey(ctx, "nope", func(*kms.Key) error { return nil }); !errors.Is(err, kms.ErrStoreNoSuchKey) {
		t.Fatalf("UpdateKey(nope) = %v", err)
	}
}

func testDeleteKey(t *testing.T, s kms.Store) {
	mustCreate(t, s, key("111111111111", "k1"))
	mustCreate(t, s, key("111111111111", "k2"))
	for _, a := range []kms.Alias{{Account: "111111111111", Name: "alias/one", KeyID: "k1"}, {Account: "111111111111", Name: "alias/two", KeyID: "k2"}} {
		if err := s.PutAlias(ctx, a, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutGrant(ctx, kms.Grant{KeyID: "k1", GrantID: "g1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetKey(ctx, "k1"); !errors.Is(err, kms.ErrStoreNoSuchKey) {
		t.Fatal("key survived deletion")
	}
	if _, err := s.GetAlias(ctx, "111111111111", "alias/one"); !errors.Is(err, kms.ErrStoreNoSuchAlias) {
		t.Fatal("alias survived its key")
	}
	if _, err := s.GetAlias(ctx, "111111111111", "alias/two"); err != nil {
		t.Fatal("another key's alias was deleted")
	}
	if gs, _ := s.ListGrants(ctx, "k1"); len(gs) != 0 {
		t.Fatal("grant survived its key")
	}
	if ks, _ := s.ListKeys(ctx, "111111111111", "", 0); len(ks) != 1 {
		t.Fatalf("ListKeys after delete: %d keys", len(ks))
	}
	if err := s.DeleteKey(ctx, "k1"); !errors.Is(err, kms.ErrStoreNoSuchKey) {
		t.Fatalf("second DeleteKey = %v", err)
	}
}

func testListKeys(t *testing.T, s kms.Store) {
	for i := 5; i >= 1; i-- {
		mustCreate(t, s, key("111111111111", fmt.Sprintf("k%d", i)))
	}
	mustCreate(t, s, key("222222222222", "k0"))
	tests := []struct {
		after string
		limit int
		want  string
	}{
		{"", 0, "k1,k2,k3,k4,k5"},
		{"", 2, "k1,k2"},
		{"k2", 2, "k3,k4"},
		{"k5", 0, ""},
	}
	for _, tc := range tests {
		ks, err := s.ListKeys(ctx, "111111111111", tc.after, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for i, k := range ks {
			if i > 0 {
				got += ","
			}
			got += k.ID
		}
		if got != tc.want {
			t.Fatalf("ListKeys(after %q, limit %d) = %s, want %s", tc.after, tc.limit, got, tc.want)
		}
	}
}

func testScanKeys(t *testing.T, s kms.Store) {
	mustCreate(t, s, key("111111111111", "k1"))
	mustCreate(t, s, key("222222222222", "k2"))
	mustCreate(t, s, key("333333333333", "k3"))
	n := 0
	if err := s.ScanKeys(ctx, func(*kms.Key) bool { n++; return true }); err != nil || n != 3 {
		t.Fatalf("ScanKeys saw %d keys, %v", n, err)
	}
	n = 0
	s.ScanKeys(ctx, func(*kms.Key) bool { n++; return false })
	if n != 1 {
		t.Fatalf("ScanKeys did not stop: %d", n)
	}
}

func testAliases(t *testing.T, s kms.Store) {
	mustCreate(t, s, key("111111111111", "k1"))
	mustCreate(t, s, key("111111111111", "k2"))
	a := kms.Alias{Account: "111111111111", Name: "alias/b", KeyID: "k1"}
	if err := s.PutAlias(ctx, a, true); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAlias(ctx, a, true); !errors.Is(err, kms.ErrStoreAliasExists) {
		t.Fatalf("duplicate alias = %v", err)
	}
	if err := s.PutAlias(ctx, kms.Alias{Account: "111111111111", Name: "alias/x", KeyID: "nope"}, true); !errors.Is(err, kms.ErrStoreAliasNoTarget) {
		t.Fatalf("alias to missing key = %v", err)
	}
	if err := s.PutAlias(ctx, kms.Alias{Account: "111111111111", Name: "alias/none", KeyID: "k1"}, false); !errors.Is(err, kms.ErrStoreNoSuchAlias) {
		t.Fatalf("retarget missing alias = %v", err)
	}
	a.KeyID = "k2"
	if err := s.PutAlias(ctx, a, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetAlias(ctx, "111111111111", "alias/b"); got.KeyID != "k2" {
		t.Fatalf("alias points at %s", got.KeyID)
	}
	s.PutAlias(ctx, kms.Alias{Account: "111111111111", Name: "alias/a", KeyID: "k1"}, true)
	s.PutAlias(ctx, kms.Alias{Account: "111111111111", Name: "alias/c", KeyID: "k1"}, true)
	if _, err := s.GetAlias(ctx, "222222222222", "alias/a"); !errors.Is(err, kms.ErrStoreNoSuchAlias) {
		t.Fatal("alias visible from another account")
	}
	list, _ := s.ListAliases(ctx, "111111111111", "alias/a", 1)
	if len(list) != 1 || list[0].Name != "alias/b" {
		t.Fatalf("ListAliases after alias/a = %+v", list)
	}
	if err := s.DeleteAlias(ctx, "111111111111", "alias/b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAlias(ctx, "111111111111", "alias/b"); !errors.Is(err, kms.ErrStoreNoSuchAlias) {
		t.Fatalf("second DeleteAlias = %v", err)
	}
}

func testGrants(t *testing.T, s kms.Store) {
	mustCreate(t, s, key("111111111111", "k1"))
	if err := s.PutGrant(ctx, kms.Grant{KeyID: "nope", GrantID: "g"}); !errors.Is(err, kms.ErrStoreNoSuchKey) {
		t.Fatalf("grant on missing key = %v", err)
	}
	for _, id := range []string{"g2", "g1"} {
		if err := s.PutGrant(ctx, kms.Grant{KeyID: "k1", GrantID: id, Operations: []string{"Decrypt"}}); err != nil {
			t.Fatal(err)
		}
	}
	gs, err := s.ListGrants(ctx, "k1")
	if err != nil || len(gs) != 2 || gs[0].GrantID != "g1" || gs[1].Operations[0] != "Decrypt" {
		t.Fatalf("ListGrants = %+v, %v", gs, err)
	}
	n := 0
	s.ScanGrants(ctx, func(kms.Grant) bool { n++; return true })
	if n != 2 {
		t.Fatalf("ScanGrants saw %d", n)
	}
	if err := s.DeleteGrant(ctx, "k1", "g1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGrant(ctx, "k1", "g1"); !errors.Is(err, kms.ErrStoreNoSuchGrant) {
		t.Fatalf("second DeleteGrant = %v", err)
	}
}

// testCanary: the root-key canary is stored once and read back as stored.
func testCanary(t *testing.T, s kms.Store) {
	got, err := s.Canary(ctx)
	if err != nil || got != nil {
		t.Fatalf("Canary of a new store = %x, %v; want nil, nil", got, err)
	}
	if err := s.PutCanary(ctx, []byte("sealed-1")); err != nil {
		t.Fatalf("PutCanary: %v", err)
	}
	if err := s.PutCanary(ctx, []byte("sealed-2")); !errors.Is(err, kms.ErrStoreKeyExists) {
		t.Fatalf("second PutCanary = %v, want ErrStoreKeyExists", err)
	}
	if got, err := s.Canary(ctx); err != nil || string(got) != "sealed-1" {
		t.Fatalf("Canary = %q, %v; want sealed-1", got, err)
	}
}

// testUpgradeRecords: UpgradeRecords hands over every record; what fn changed is stored when
// it returns true, and nothing when it returns false or an error, or changes an identity; once
// fn succeeded for a format, later calls for it or an older one do not call fn.
func testUpgradeRecords(t *testing.T, s kms.Store) {
	const acct = "111111111111"
	mustCreate(t, s, key(acct, "k1"))
	if err := s.CreateKey(ctx, key(acct, "k2"), &kms.Alias{Account: acct, Name: "alias/a", KeyID: "k2"}, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutGrant(ctx, kms.Grant{KeyID: "k1", GrantID: "g1", Operations: []string{"Decrypt"}}); err != nil {
		t.Fatal(err)
	}
	change := func(r *kms.Records) {
		for _, k := range r.Keys {
			k.RecordFormat, k.MAC, k.Policy = 3, []byte("mac of "+k.ID), "changed"
		}
		for i := range r.Aliases {
			r.Aliases[i].RecordFormat, r.Aliases[i].MAC = 3, []byte("alias mac")
		}
		for i := range r.Grants {
			r.Grants[i].RecordFormat, r.Grants[i].MAC = 3, []byte("grant mac")
		}
	}
	// upgrade calls UpgradeRecords for format with fn, and reports whether fn was called.
	upgrade := func(format int, fn func(*kms.Records) (bool, error)) (called bool, err error) {
		err = s.UpgradeRecords(ctx, format, func(r *kms.Records) (bool, error) {
			called = true
			return fn(r)
		})
		return called, err
	}
	unchanged := func(what string) {
		t.Helper()
		k, err := s.GetKey(ctx, "k1")
		if err != nil || k.Policy != key(acct, "k1").Policy || k.RecordFormat != 0 || k.MAC != nil {
			t.Fatalf("%s: key %+v %v", what, k, err)
		}
	}
	called, err := upgrade(2, func(r *kms.Records) (bool, error) {
		if len(r.Keys) != 2 || len(r.Aliases) != 1 || len(r.Grants) != 1 {
			t.Errorf("records: %d keys, %d aliases, %d grants; want 2, 1, 1", len(r.Keys), len(r.Aliases), len(r.Grants))
		}
		change(r)
		return false, nil
	})
	if err != nil || !called {
		t.Fatalf("first upgrade: called %v, %v", called, err)
	}
	unchanged("fn returned false")
	for _, format := range []int{1, 2} {
		if called, err := upgrade(format, func(*kms.Records) (bool, error) { return true, nil }); called || err != nil {
			t.Fatalf("upgrade to format %d after format 2: called %v, %v", format, called, err)
		}
	}
	boom := errors.New("boom")
	if _, err := upgrade(3, func(r *kms.Records) (bool, error) { change(r); return true, boom }); !errors.Is(err, boom) {
		t.Fatalf("fn's error: %v", err)
	}
	unchanged("fn failed")
	if _, err := upgrade(3, func(r *kms.Records) (bool, error) {
		change(r)
		r.Aliases[0].Name = "alias/other"
		return true, nil
	}); err == nil {
		t.Fatal("an alias renamed by the upgrade was accepted")
	}
	unchanged("fn changed an identity")
	if called, err := upgrade(3, func(r *kms.Records) (bool, error) { change(r); return true, nil }); err != nil || !called {
		t.Fatalf("upgrade to format 3: called %v, %v", called, err)
	}
	if called, _ := upgrade(3, func(*kms.Records) (bool, error) { return false, nil }); called {
		t.Fatal("upgraded to format 3 twice")
	}
	k, err := s.GetKey(ctx, "k1")
	if err != nil || k.Policy != "changed" || k.RecordFormat != 3 || string(k.MAC) != "mac of k1" {
		t.Fatalf("upgraded key %+v %v", k, err)
	}
	a, err := s.GetAlias(ctx, acct, "alias/a")
	if err != nil || a.KeyID != "k2" || a.RecordFormat != 3 || string(a.MAC) != "alias mac" {
		t.Fatalf("upgraded alias %+v %v", a, err)
	}
	gs, err := s.ListGrants(ctx, "k1")
	if err != nil || len(gs) != 1 || gs[0].RecordFormat != 3 || string(gs[0].MAC) != "grant mac" {
		t.Fatalf("upgraded grants %+v %v", gs, err)
	}
	if ks, err := s.ListKeys(ctx, acct, "", 0); err != nil || len(ks) != 2 || ks[0].Policy != "changed" {
		t.Fatalf("ListKeys after the upgrade: %v %v", ks, err)
	}
}

// testKeyQuota checks the quota of customer managed keys: counted per account in every key
// state, not counting AWS managed or owned keys, freed by DeleteKey, and never passed.
func testKeyQuota(t *testing.T, s kms.Store) {
	const acct, other = "111111111111", "222222222222"
	mustCreate(t, s, key(acct, "k1"))
	pending := key(acct, "k2")
	pending.State = kms.StatePendingDeletion
	if err := s.CreateKey(ctx, pending, nil, 2); err != nil {
		t.Fatalf("second key under a quota of 2: %v", err)
	}
	managed := key(acct, "managed")
	managed.Manager = kms.ManagerAWS
	owned := key(acct, "owned")
	owned.Owned = true
	cases := []struct {
		name  string
		k     *kms.Key
		alias *kms.Alias
		want  error
	}{
		{"a third customer managed key", key(acct, "k3"), nil, kms.ErrStoreQuota},
		{"the same with an alias", key(acct, "k3"), &kms.Alias{Account: acct, Name: "alias/k3", KeyID: "k3"}, kms.ErrStoreQuota},
		{"an AWS managed key", managed, nil, nil},
		{"an owned key", owned, nil, nil},
		{"another account's key", key(other, "o1"), nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.CreateKey(ctx, tc.k, tc.alias, 2); !errors.Is(err, tc.want) {
				t.Fatalf("CreateKey = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := s.GetAlias(ctx, acct, "alias/k3"); !errors.Is(err, kms.ErrStoreNoSuchAlias) {
		t.Fatalf("a key refused by the quota left its alias: %v", err)
	}
	if err := s.DeleteKey(ctx, "managed"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(ctx, key(acct, "k3"), nil, 2); !errors.Is(err, kms.ErrStoreQuota) {
		t.Fatalf("deleting an AWS managed key freed a customer managed place: %v", err)
	}
	if err := s.DeleteKey(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(ctx, key(acct, "k3"), nil, 2); err != nil {
		t.Fatalf("after a deletion: %v", err)
	}
	if err := s.CreateKey(ctx, key(acct, "k4"), nil, 0); err != nil {
		t.Fatalf("quota 0 means none: %v", err)
	}
	if err := s.CreateKey(ctx, key(acct, "k5"), nil, 3); !errors.Is(err, kms.ErrStoreQuota) {
		t.Fatalf("k1, k3 and k4 fill a quota of 3: %v", err)
	}
}
