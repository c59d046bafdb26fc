package pgkms_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/cluster"
	"github.com/coffer/coffer/internal/cluster/pgcluster"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmstest"
	"github.com/coffer/coffer/internal/pgtest"
)

var alice = kms.Caller{Account: "111111111111", ARN: "arn:aws:iam::111111111111:root"}

// kmsNode is one Coffer node's KMS on a shared database: its own pool, store and service.
type kmsNode struct {
	svc    *kms.Service
	events *eventCounter
}

// newKMSNode opens a KMS node on the database at url with the root key in rootFile. With
// coord, it publishes its changes and hears the other nodes' (as internal/server wires it);
// without, only its CacheTTL bounds what it misses.
func newKMSNode(t *testing.T, url, rootFile string, coord cluster.Coordinator, ttl time.Duration, now func() time.Time) kmsNode {
	t.Helper()
	root, err := kms.OpenFileRootKey(rootFile)
	if err != nil {
		t.Fatal(err)
	}
	n := kmsNode{events: &eventCounter{}}
	cfg := kms.Config{Store: newNode(t, url), Root: root, Region: "us-east-1", Now: now, Audit: n.events, CacheTTL: ttl}
	if coord != nil {
		cfg.Changed = func(ctx context.Context, topic, id string) {
			if err := coord.Publish(ctx, topic, id); err != nil {
				t.Errorf("publish %s %s: %v", topic, id, err)
			}
		}
		cfg.Lease = coord.TryLease
	}
	if n.svc, err = kms.New(cfg); err != nil {
		t.Fatal(err)
	}
	if coord != nil {
		for _, topic := range []string{kms.TopicKey, kms.TopicGrants, kms.TopicAliases} {
			heard := make(chan struct{}, 1)
			cancel := coord.Subscribe(topic, func(id string) {
				n.svc.Invalidate(topic, id)
				select {
				case heard <- struct{}{}:
				default:
				}
			})
			t.Cleanup(cancel)
			<-heard // the "" of a connected listener: changes from now on are heard
		}
	}
	return n
}

// newCoordinator opens a PostgreSQL coordinator on a pool of its own.
func newCoordinator(t *testing.T, url string) *pgcluster.Coordinator {
	t.Helper()
	c, err := pgcluster.New(context.Background(), pgtest.OpenPool(t, url), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// eventCounter counts the service events a KMS records, by name.
type eventCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *eventCounter) Record(_ context.Context, e *audit.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = make(map[string]int)
	}
	c.counts[e.EventName]++
	return nil
}

func (c *eventCounter) WantsData(string, string, bool) bool { return false }

func (c *eventCounter) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[name]
}

// within polls cond until it holds, failing t after bound.
func within(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > bound {
			t.Fatalf("%s: not seen within %v", what, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%s: seen after %v", what, time.Since(start).Round(time.Millisecond))
}

// TestNodesSeeKeyChanges: a key disabled, an alias moved to another key, a grant made and
// revoked, and a key scheduled for deletion through node A change what node B does within
// the stated bound: at once with notifications, within the cache's re-read time without them.
func TestNodesSeeKeyChanges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		notify bool
		ttl    time.Duration
		bound  time.Duration // what the test waits at most: the stated bound with room for a busy machine
	}{
		{"notifications", true, cluster.StaleBound, 2 * time.Second},
		// A short re-read time keeps the test quick; the mechanism is StaleBound's.
		{"re-reads alone", false, 300 * time.Millisecond, 300*time.Millisecond + 2*time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url, rootFile := pgtest.NewDatabase(t), filepath.Join(t.TempDir(), "root.key")
			var ca, cb cluster.Coordinator
			if tc.notify {
				ca, cb = newCoordinator(t, url), newCoordinator(t, url)
			}
			a := newKMSNode(t, url, rootFile, ca, tc.ttl, nil)
			b := newKMSNode(t, url, rootFile, cb, tc.ttl, nil)
			create := func() string {
				m, err := a.svc.CreateKey(ctx, alice, kms.CreateKeyInput{})
				if err != nil {
					t.Fatal(err)
				}
				return m.KeyId
			}
			k1, k2 := create(), create()
			if err := a.svc.CreateAlias(ctx, alice, "alias/app", k1); err != nil {
				t.Fatal(err)
			}
			encryptOnB := func(keyID string) (kms.EncryptOutput, error) {
				return b.svc.Encrypt(ctx, alice, kms.EncryptInput{KeyId: keyID, Plaintext: []byte("x")})
			}
			// B caches both keys and the alias.
			for _, id := range []string{k1, k2, "alias/app"} {
				if _, err := encryptOnB(id); err != nil {
					t.Fatalf("Encrypt on B with %s: %v", id, err)
				}
			}

			if err := a.svc.DisableKey(ctx, alice, k1); err != nil {
				t.Fatal(err)
			}
			within(t, tc.bound, "DisableKey on A fails Encrypt on B", func() bool {
				_, err := encryptOnB(k1)
				return errors.Is(err, kms.ErrDisabled)
			})
			if _, err := b.svc.GenerateDataKey(ctx, alice, kms.GenerateDataKeyInput{KeyId: k1, KeySpec: "AES_256"}); !errors.Is(err, kms.ErrDisabled) {
				t.Fatalf("GenerateDataKey on B with the disabled key = %v, want DisabledException", err)
			}

			if err := a.svc.UpdateAlias(ctx, alice, "alias/app", k2); err != nil {
				t.Fatal(err)
			}
			within(t, tc.bound, "UpdateAlias on A redirects B", func() bool {
				out, err := encryptOnB("alias/app")
				return err == nil && out.KeyId == a.svc.KeyARN(alice.Account, k2)
			})

			bob := kms.Caller{Account: alice.Account, ARN: "arn:aws:iam::" + alice.Account + ":user/bob"}
			_, grantID, err := a.svc.CreateGrant(ctx, alice, kms.CreateGrantInput{KeyId: k2, GranteePrincipal: bob.ARN, Operations: []string{"Encrypt"}})
			if err != nil {
				t.Fatal(err)
			}
			bobEncryptsOnB := func() error {
				_, err := b.svc.Encrypt(ctx, bob, kms.EncryptInput{KeyId: k2, Plaintext: []byte("x")})
				return err
			}
			within(t, tc.bound, "CreateGrant on A lets the grantee use the key on B", func() bool { return bobEncryptsOnB() == nil })
			if err := a.svc.RevokeGrant(ctx, alice, k2, grantID, false); err != nil {
				t.Fatal(err)
			}
			within(t, tc.bound, "RevokeGrant on A stops the grantee on B", func() bool { return errors.Is(bobEncryptsOnB(), kms.ErrAccessDenied) })

			if _, err := a.svc.ScheduleKeyDeletion(ctx, alice, k2, 7); err != nil {
				t.Fatal(err)
			}
			within(t, tc.bound, "ScheduleKeyDeletion on A fails Encrypt on B", func() bool {
				_, err := encryptOnB(k2)
				return errors.Is(err, kms.ErrInvalidState)
			})
		})
	}
}

// TestSchedulerOnceAcrossNodes: two nodes whose scheduler ticks at the same moment (as when
// a lease expires while its holder is still ticking) rotate each due key once and delete each
// due key once, with one audit record each.
func TestSchedulerOnceAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, rootFile := pgtest.NewDatabase(t), filepath.Join(t.TempDir(), "root.key")
	clock := kmstest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a := newKMSNode(t, url, rootFile, nil, 0, clock.Now)
	b := newKMSNode(t, url, rootFile, nil, 0, clock.Now)
	const rotating, doomed = 6, 6
	var rotIDs, doomedIDs []string
	for i := range rotating + doomed {
		m, err := a.svc.CreateKey(ctx, alice, kms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		if i < rotating {
			if err := a.svc.EnableKeyRotation(ctx, alice, m.KeyId, 90); err != nil {
				t.Fatal(err)
			}
			rotIDs = append(rotIDs, m.KeyId)
			continue
		}
		if _, err := a.svc.ScheduleKeyDeletion(ctx, alice, m.KeyId, 7); err != nil {
			t.Fatal(err)
		}
		doomedIDs = append(doomedIDs, m.KeyId)
	}
	clock.Add(91 * 24 * time.Hour)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, n := range []kmsNode{a, b} {
		wg.Go(func() { errs[i] = n.svc.Tick(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Tick on node %d: %v", i, err)
		}
	}
	// A third node, whose cache is empty, sees the store as the two left it.
	c := newKMSNode(t, url, rootFile, nil, 0, clock.Now)
	for _, id := range rotIDs {
		rots, _, err := c.svc.ListKeyRotations(ctx, alice, id, kms.Page{})
		if err != nil || len(rots) != 1 {
			t.Errorf("key %s: %d rotations (%v), want 1", id, len(rots), err)
		}
	}
	for _, id := range doomedIDs {
		if _, err := c.svc.DescribeKey(ctx, alice, id); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("key %s due for deletion: DescribeKey = %v, want it deleted", id, err)
		}
	}
	if got := a.events.count("RotateKey") + b.events.count("RotateKey"); got != rotating {
		t.Errorf("%d RotateKey records across the nodes, want %d", got, rotating)
	}
	if got := a.events.count("DeleteKey") + b.events.count("DeleteKey"); got != doomed {
		t.Errorf("%d DeleteKey records across the nodes, want %d", got, doomed)
	}
}

// TestSchedulerWaitsForLease: Run does not tick while its lease is held elsewhere, and ticks
// once it holds it; the lease it asks for is SchedulerLease, for a few intervals.
func TestSchedulerWaitsForLease(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, rootFile := pgtest.NewDatabase(t), filepath.Join(t.TempDir(), "root.key")
	clock := kmstest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	root, err := kms.OpenFileRootKey(rootFile)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	asked, granted := 0, false
	lease := func(_ context.Context, name string, ttl time.Duration) (bool, error) {
		if name != kms.SchedulerLease || ttl <= 10*time.Millisecond {
			t.Errorf("Run asked for lease %q for %v, want %q for a few intervals", name, ttl, kms.SchedulerLease)
		}
		mu.Lock()
		defer mu.Unlock()
		asked++
		return granted, nil
	}
	svc, err := kms.New(kms.Config{Store: newNode(t, url), Root: root, Region: "us-east-1", Now: clock.Now, Lease: lease})
	if err != nil {
		t.Fatal(err)
	}
	m, err := svc.CreateKey(ctx, alice, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ScheduleKeyDeletion(ctx, alice, m.KeyId, 7); err != nil {
		t.Fatal(err)
	}
	clock.Add(8 * 24 * time.Hour)
	done := make(chan struct{})
	go func() { svc.Run(ctx, 10*time.Millisecond); close(done) }()
	within(t, 10*time.Second, "Run asks for the lease twice", func() bool { mu.Lock(); defer mu.Unlock(); return asked >= 2 })
	// Run asked again, so its first round is over: without the lease it must not have ticked.
	if _, err := svc.DescribeKey(ctx, alice, m.KeyId); err != nil {
		t.Fatalf("a key due for deletion was deleted by a node without the lease: DescribeKey = %v", err)
	}
	mu.Lock()
	granted = true
	mu.Unlock()
	within(t, 10*time.Second, "Run with the lease deletes the due key", func() bool {
		_, err := svc.DescribeKey(ctx, alice, m.KeyId)
		return errors.Is(err, kms.ErrNotFound)
	})
	cancel()
	<-done
}

// TestManagedKeysAcrossNodes: nodes that make the same AWS managed key (aws/s3) or
// service-owned key at once all end up with the one key the store kept, without an error.
func TestManagedKeysAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, rootFile := pgtest.NewDatabase(t), filepath.Join(t.TempDir(), "root.key")
	nodes := []kmsNode{
		newKMSNode(t, url, rootFile, nil, 0, nil),
		newKMSNode(t, url, rootFile, nil, 0, nil),
		newKMSNode(t, url, rootFile, nil, 0, nil),
	}
	makers := []struct {
		name string
		make func(*kms.Service) (string, error)
	}{
		{"managed", func(s *kms.Service) (string, error) { return s.ServiceKey(ctx, alice.Account, "aws/s3") }},
		{"owned", func(s *kms.Service) (string, error) { return s.OwnedKey(ctx, "coffer-test") }},
	}
	for _, m := range makers {
		t.Run(m.name, func(t *testing.T) {
			ids := make([]string, len(nodes))
			var wg sync.WaitGroup
			for i, n := range nodes {
				wg.Go(func() {
					id, err := m.make(n.svc)
					if err != nil {
						t.Errorf("node %d: %v", i, err)
					}
					ids[i] = id
				})
			}
			wg.Wait()
			for i, id := range ids {
				if id != ids[0] {
					t.Fatalf("node %d got key %s, node 0 %s: want one key", i, id, ids[0])
				}
			}
		})
	}
}
