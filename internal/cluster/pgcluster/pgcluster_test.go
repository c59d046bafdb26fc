package pgcluster_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/cluster/pgcluster"
	"github.com/coffer/coffer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// wait bounds every wait for a notification: far above the milliseconds one takes.
const wait = 10 * time.Second

// newNode opens a coordinator on a pool of its own, as one Coffer node would; it closes when
// t ends.
func newNode(t *testing.T, url string) *pgcluster.Coordinator {
	t.Helper()
	c, err := pgcluster.New(context.Background(), pgtest.OpenPool(t, url), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// listen subscribes to topic on c, returning what it hears.
func listen(c *pgcluster.Coordinator, topic string) <-chan string {
	heard := make(chan string, 100)
	c.Subscribe(topic, func(key string) { heard <- key })
	return heard
}

// expect waits for key on heard, skipping other keys.
func expect(t *testing.T, heard <-chan string, key string) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case k := <-heard:
			if k == key {
				return
			}
		case <-deadline:
			t.Fatalf("%q not heard within %v", key, wait)
		}
	}
}

// TestPublishReachesEveryNode: a change published on one node is heard on both, only by the
// subscribers of its topic; each subscriber first hears "" when its node connects.
func TestPublishReachesEveryNode(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	a, b := newNode(t, url), newNode(t, url)
	onA, onB, otherB := listen(a, "kms-key"), listen(b, "kms-key"), listen(b, "iam")
	for _, heard := range []<-chan string{onA, onB, otherB} {
		expect(t, heard, "") // connected: whatever is published from now on arrives
	}
	if err := a.Publish(ctx, "kms-key", "1234abcd-12ab-34cd-56ef-1234567890ab"); err != nil {
		t.Fatal(err)
	}
	expect(t, onA, "1234abcd-12ab-34cd-56ef-1234567890ab")
	expect(t, onB, "1234abcd-12ab-34cd-56ef-1234567890ab")
	if err := b.Publish(ctx, "iam", "x"); err != nil {
		t.Fatal(err)
	}
	expect(t, otherB, "x")
	select {
	case k := <-onB:
		t.Fatalf("a kms-key subscriber heard %q, published under iam", k)
	default:
	}
}

// TestReconnectSaysAnythingChanged: when the listening connection is cut, the node connects
// again, tells its subscribers that anything may have changed, and hears notifications again.
func TestReconnectSaysAnythingChanged(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	a, b := newNode(t, url), newNode(t, url)
	heard := listen(a, "kms-key")
	expect(t, heard, "")
	admin := pgtest.OpenPool(t, url)
	tag, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query = 'LISTEN coffer_changes'`)
	if err != nil {
		t.Fatal(err)
	}
	if tag.RowsAffected() != 2 {
		t.Fatalf("cut %d listening connections, want A's and B's", tag.RowsAffected())
	}
	expect(t, heard, "")
	if err := b.Publish(ctx, "kms-key", "after"); err != nil {
		t.Fatal(err)
	}
	expect(t, heard, "after")
}

// TestLease: one of two nodes holds a lease and renews it; the other takes it once it has
// expired unrenewed, or at once when its holder closes.
func TestLease(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	a, b := newNode(t, url), newNode(t, url)
	try := func(c *pgcluster.Coordinator, name string, ttl time.Duration) bool {
		t.Helper()
		held, err := c.TryLease(ctx, name, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return held
	}
	if !try(a, "kms-scheduler", time.Hour) {
		t.Fatal("A did not take a free lease")
	}
	if try(b, "kms-scheduler", time.Hour) {
		t.Fatal("B took a lease A holds")
	}
	if !try(a, "kms-scheduler", time.Hour) {
		t.Fatal("A could not renew its lease")
	}
	if !try(b, "other-job", time.Hour) {
		t.Fatal("B did not take another, free lease")
	}

	t.Run("expiry", func(t *testing.T) {
		if !try(a, "short", 100*time.Millisecond) {
			t.Fatal("A did not take a free lease")
		}
		deadline := time.Now().Add(wait)
		for !try(b, "short", time.Hour) {
			if time.Now().After(deadline) {
				t.Fatalf("B never took an expired lease")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if try(a, "short", time.Hour) {
			t.Fatal("A took back a lease B holds")
		}
	})

	t.Run("race", func(t *testing.T) {
		// Both nodes ask for a free lease at once, many times over: one gets it.
		var wg sync.WaitGroup
		held := make([]bool, 20)
		for i := range held {
			c := []*pgcluster.Coordinator{a, b}[i%2]
			wg.Go(func() {
				h, err := c.TryLease(ctx, "raced", time.Hour)
				if err != nil {
					t.Error(err)
				}
				held[i] = h
			})
		}
		wg.Wait()
		holders := map[int]bool{}
		for i, h := range held {
			if h {
				holders[i%2] = true
			}
		}
		if len(holders) != 1 {
			t.Fatalf("nodes holding a lease raced for: %v, want exactly one", holders)
		}
	})

	t.Run("close", func(t *testing.T) {
		c := newNode(t, url)
		if !try(c, "handed-over", time.Hour) {
			t.Fatal("C did not take a free lease")
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if !try(b, "handed-over", time.Hour) {
			t.Fatal("B could not take the lease of a closed node")
		}
	})
}
