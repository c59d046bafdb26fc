package server

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/cluster"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/boltiam"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
)

// TestCoordinate: two sets of services on one store, wired as the server wires them
// (published as their Changed hook, coordinate for their subscriptions) to one coordinator,
// stand for two nodes: a key disabled and an access key deleted through one are refused by
// the other as soon as the call returns, as a Local coordinator delivers before Publish
// returns. With a Local coordinator the caches are not bounded in time, and the scheduler's
// lease is held.
func TestCoordinate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	db, err := boltfile.Open(filepath.Join(dir, "meta.db"), TopBuckets())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	root, err := kms.OpenFileRootKey(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{coord: cluster.NewLocal(), log: slog.New(slog.DiscardHandler)}
	defer s.jobs.Wait()
	defer cancel()
	if s.sharedStores() || s.cacheTTL() != 0 {
		t.Fatalf("a Local coordinator: shared %v, cache TTL %v; want the stores this process's alone", s.sharedStores(), s.cacheTTL())
	}
	if held, err := s.coord.TryLease(ctx, kms.SchedulerLease, 0); !held || err != nil {
		t.Fatalf("TryLease on a Local coordinator = %v, %v; want held", held, err)
	}
	type node struct {
		keys *kms.Service
		ids  *iam.Service
	}
	newNode := func() node {
		ks, err := kmsbolt.New(db)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := kms.New(kms.Config{Store: ks, Root: root, Region: "us-east-1", CacheTTL: s.cacheTTL(), Changed: s.published, Lease: s.coord.TryLease})
		if err != nil {
			t.Fatal(err)
		}
		is, err := boltiam.New(db)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := iam.New(ctx, iam.Config{Store: is, Sealer: newIAMSealer(keys), Default: iam.Account{ID: "111122223333", DisplayName: "main"},
			Changed: s.published})
		if err != nil {
			t.Fatal(err)
		}
		s.coordinate(ctx, s.coord, keys, ids, nil)
		return node{keys, ids}
	}
	a, b := newNode(), newNode()
	alice := kms.Caller{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root"}

	t.Run("key disabled", func(t *testing.T) {
		m, err := a.keys.CreateKey(ctx, alice, kms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		in := kms.GenerateDataKeyInput{KeyId: m.KeyId, KeySpec: "AES_256"}
		if _, err := b.keys.GenerateDataKey(ctx, alice, in); err != nil { // B caches the key
			t.Fatal(err)
		}
		if err := a.keys.DisableKey(ctx, alice, m.KeyId); err != nil {
			t.Fatal(err)
		}
		if _, err := b.keys.GenerateDataKey(ctx, alice, in); !errors.Is(err, kms.ErrDisabled) {
			t.Fatalf("GenerateDataKey on B after DisableKey on A = %v, want DisabledException", err)
		}
	})

	t.Run("access key deleted", func(t *testing.T) {
		if _, err := a.ids.CreateUser(ctx, "111122223333", "app", "", nil); err != nil {
			t.Fatal(err)
		}
		k, err := a.ids.CreateAccessKey(ctx, "111122223333", "app")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.ids.Lookup(ctx, k.ID, ""); err != nil { // B caches the credential
			t.Fatal(err)
		}
		if err := a.ids.DeleteAccessKey(ctx, "111122223333", "app", k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := b.ids.Lookup(ctx, k.ID, ""); !errors.Is(err, iam.ErrUnknownAccessKey) {
			t.Fatalf("Lookup on B after DeleteAccessKey on A = %v, want an unknown access key", err)
		}
	})
}
