package kmstest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
)

// testKeyStores creates, replaces, lists and deletes custom key store records.
func testKeyStores(t *testing.T, s kms.Store) {
	a := kms.KeyStore{ID: "cks-00000000000000002", Account: "111111111111", Name: "a", Type: kms.KeyStoreTypeCloudHSM,
		ClusterID: "cluster-a", TrustAnchor: "pem", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), MAC: []byte{1}}
	b := a
	b.ID, b.Account, b.Name, b.ClusterID = "cks-00000000000000001", "222222222222", "b", "cluster-b"
	if _, err := s.GetKeyStore(ctx, a.ID); !errors.Is(err, kms.ErrStoreNoSuchKeyStore) {
		t.Fatalf("GetKeyStore before creation: %v", err)
	}
	if err := s.PutKeyStore(ctx, a, false); !errors.Is(err, kms.ErrStoreNoSuchKeyStore) {
		t.Fatalf("replacing an absent store: %v", err)
	}
	for _, ks := range []kms.KeyStore{a, b} {
		if err := s.PutKeyStore(ctx, ks, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutKeyStore(ctx, a, true); !errors.Is(err, kms.ErrStoreKeyExists) {
		t.Fatalf("creating a store twice: %v", err)
	}
	a.Connect, a.Name = true, "renamed"
	if err := s.PutKeyStore(ctx, a, false); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetKeyStore(ctx, a.ID)
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("GetKeyStore = %+v, %v; want %+v", got, err, a)
	}
	all, err := s.ListKeyStores(ctx)
	if err != nil || len(all) != 2 || all[0].ID != b.ID || all[1].ID != a.ID {
		t.Fatalf("ListKeyStores = %+v, %v; want b then a", all, err)
	}
	if err := s.DeleteKeyStore(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteKeyStore(ctx, a.ID); !errors.Is(err, kms.ErrStoreNoSuchKeyStore) {
		t.Fatalf("deleting twice: %v", err)
	}
	if all, err := s.ListKeyStores(ctx); err != nil || len(all) != 1 {
		t.Fatalf("ListKeyStores after deletion = %+v, %v", all, err)
	}
}
