package pgiam_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/cluster"
	"github.com/coffer/coffer/internal/cluster/pgcluster"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/pgtest"
	"github.com/coffer/coffer/internal/secret"
)

// gcmSealer seals secrets with AES-GCM under one key shared by the nodes, the context ignored:
// what the server's KMS adapter provides, without a KMS.
type gcmSealer struct{ aead cipher.AEAD }

func newSealer(t *testing.T) gcmSealer {
	b, err := aes.NewCipher(secret.Generate().RevealBytes())
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return gcmSealer{aead: a}
}

func (g gcmSealer) Seal(_ context.Context, pt []byte, _ map[string]string) ([]byte, error) {
	nonce := make([]byte, g.aead.NonceSize())
	rand.Read(nonce)
	return g.aead.Seal(nonce, nonce, pt, nil), nil
}

func (g gcmSealer) Open(_ context.Context, sealed []byte, _ map[string]string) (secret.Bytes, error) {
	n := g.aead.NonceSize()
	if len(sealed) < n {
		return secret.Bytes{}, errors.New("short")
	}
	pt, err := g.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return secret.Bytes{}, err
	}
	return secret.TakeBytes(pt), nil
}

// newIAMNode opens the identity service of one node on the database at url. With coord, it
// publishes its changes and hears the other nodes' (as internal/server wires it).
func newIAMNode(t *testing.T, url string, sealer gcmSealer, coord cluster.Coordinator, ttl time.Duration) *iam.Service {
	t.Helper()
	cfg := iam.Config{Store: newNode(t, url), Sealer: sealer, CacheTTL: ttl, Default: iam.Account{ID: "111122223333", DisplayName: "main"}}
	if coord != nil {
		cfg.Changed = func(ctx context.Context, topic, id string) {
			if err := coord.Publish(ctx, topic, id); err != nil {
				t.Errorf("publish %s: %v", topic, err)
			}
		}
	}
	svc, err := iam.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if coord != nil {
		heard := make(chan struct{}, 1)
		t.Cleanup(coord.Subscribe(iam.TopicIdentities, func(string) {
			svc.Invalidate()
			select {
			case heard <- struct{}{}:
			default:
			}
		}))
		<-heard // the "" of a connected listener
	}
	return svc
}

// TestNodesSeeCredentialChanges: an access key deactivated, then deleted, through node A is
// refused by node B within the stated bound: at once with notifications, within the cache's
// re-read time without them.
func TestNodesSeeCredentialChanges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		notify bool
		ttl    time.Duration
		bound  time.Duration // the stated bound with room for a busy machine
	}{
		{"notifications", true, cluster.StaleBound, 2 * time.Second},
		{"re-reads alone", false, 300 * time.Millisecond, 300*time.Millisecond + 2*time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url, sealer := pgtest.NewDatabase(t), newSealer(t)
			var ca, cb cluster.Coordinator
			if tc.notify {
				ca, cb = newCoordinator(t, url), newCoordinator(t, url)
			}
			a := newIAMNode(t, url, sealer, ca, tc.ttl)
			b := newIAMNode(t, url, sealer, cb, tc.ttl)
			if _, err := a.CreateUser(ctx, "111122223333", "app", "", nil); err != nil {
				t.Fatal(err)
			}
			k, err := a.CreateAccessKey(ctx, "111122223333", "app")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Lookup(ctx, k.ID, ""); err != nil { // B caches the credential
				t.Fatalf("Lookup on B of a new key: %v", err)
			}
			refusedOnB := func() bool {
				_, err := b.Lookup(ctx, k.ID, "")
				return errors.Is(err, iam.ErrUnknownAccessKey)
			}
			if err := a.UpdateAccessKey(ctx, "111122223333", "app", k.ID, iam.StatusInactive); err != nil {
				t.Fatal(err)
			}
			within(t, tc.bound, "a key deactivated on A is refused by B", refusedOnB)
			if err := a.UpdateAccessKey(ctx, "111122223333", "app", k.ID, iam.StatusActive); err != nil {
				t.Fatal(err)
			}
			within(t, tc.bound, "a key reactivated on A is accepted by B", func() bool { return !refusedOnB() })
			if err := a.DeleteAccessKey(ctx, "111122223333", "app", k.ID); err != nil {
				t.Fatal(err)
			}
			within(t, tc.bound, "a key deleted on A is refused by B", refusedOnB)
		})
	}
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
