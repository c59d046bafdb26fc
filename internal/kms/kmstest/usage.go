package kmstest

import (
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
)

// UsageStore is a Store that also keeps the last use of keys.
type UsageStore interface {
	kms.Store
	kms.UsageStore
}

// RunUsage runs the cases of kms.UsageStore; open returns a new, empty store for each.
func RunUsage(t *testing.T, open func(t *testing.T) UsageStore) {
	t.Run("LastWriterByTimestamp", func(t *testing.T) { testUsageLastWriter(t, open(t)) })
	t.Run("TrackingStartIsKept", func(t *testing.T) { testTrackingStartIsKept(t, open(t)) })
}

// testUsageLastWriter: servers sharing a store each write the uses they saw; a stored use is
// replaced only by a later one, uses of keys that no longer exist are dropped, and deleting a
// key deletes its use.
func testUsageLastWriter(t *testing.T, s UsageStore) {
	for _, id := range []string{"k1", "k2"} {
		mustCreate(t, s, key("111122223333", id))
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	use := func(op string, t time.Time) kms.KeyUsage {
		return kms.KeyUsage{Operation: op, Time: t, EventID: op + "-event", RequestID: op + "-request"}
	}
	steps := []struct {
		name string
		put  map[string]kms.KeyUsage
		want map[string]string // key → operation stored ("" : none)
	}{
		{"first uses", map[string]kms.KeyUsage{"k1": use("Encrypt", t0), "k2": use("Sign", t0)}, map[string]string{"k1": "Encrypt", "k2": "Sign"}},
		{"a later use replaces", map[string]kms.KeyUsage{"k1": use("Decrypt", t0.Add(time.Second))}, map[string]string{"k1": "Decrypt", "k2": "Sign"}},
		{"an earlier use from another server does not", map[string]kms.KeyUsage{"k1": use("GenerateDataKey", t0.Add(time.Millisecond)), "k2": use("Verify", t0.Add(-time.Hour))}, map[string]string{"k1": "Decrypt", "k2": "Sign"}},
		{"a use of the same time does not", map[string]kms.KeyUsage{"k1": use("Encrypt", t0.Add(time.Second))}, map[string]string{"k1": "Decrypt"}},
		{"a nanosecond later does", map[string]kms.KeyUsage{"k1": use("Sign", t0.Add(time.Second+time.Nanosecond))}, map[string]string{"k1": "Sign"}},
		{"a use of a key that no longer exists is dropped", map[string]kms.KeyUsage{"gone": use("Encrypt", t0)}, map[string]string{"gone": ""}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := s.PutLastUsage(ctx, st.put); err != nil {
				t.Fatal(err)
			}
			for id, op := range st.want {
				u, ok, err := s.LastUsage(ctx, id)
				if err != nil || ok != (op != "") || u.Operation != op {
					t.Fatalf("%s: %+v %v %v, want %q", id, u, ok, err, op)
				}
				if ok && (u.EventID != op+"-event" || u.RequestID != op+"-request") {
					t.Fatalf("%s: %+v", id, u)
				}
			}
		})
	}
	if err := s.DeleteKey(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.LastUsage(ctx, "k2"); ok {
		t.Fatal("the use of a deleted key is still stored")
	}
}

// testTrackingStartIsKept: the first tracking start is kept; later calls return it.
func testTrackingStartIsKept(t *testing.T, s UsageStore) {
	first := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i, now := range []time.Time{first, first.Add(time.Hour), first.Add(-time.Hour)} {
		got, err := s.TrackingStart(ctx, now)
		if err != nil || !got.Equal(first) {
			t.Fatalf("call %d: %v %v, want %v", i, got, err, first)
		}
	}
}
