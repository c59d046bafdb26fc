package cluster_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/cluster"
)

// TestLocal: Publish reaches the subscribers of its topic before it returns, and no others;
// a cancelled subscription hears nothing more; every lease is held; bad messages are refused.
func TestLocal(t *testing.T) {
	ctx := context.Background()
	l := cluster.NewLocal()
	var keys, others []string
	cancel := l.Subscribe("kms-key", func(k string) { keys = append(keys, k) })
	l.Subscribe("iam", func(k string) { others = append(others, k) })
	if err := l.Publish(ctx, "kms-key", "k1"); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "k1" || len(others) != 0 {
		t.Fatalf("after Publish: kms-key heard %q, iam heard %q; want [k1] and nothing", keys, others)
	}
	cancel()
	if err := l.Publish(ctx, "kms-key", "k2"); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("a cancelled subscription heard %q", keys[1:])
	}
	for _, name := range []string{"kms-scheduler", "other"} {
		if held, err := l.TryLease(ctx, name, time.Second); !held || err != nil {
			t.Fatalf("TryLease(%s) = %v, %v; a lone node holds every lease", name, held, err)
		}
	}
	bad := []struct{ name, topic, key string }{
		{"empty topic", "", "k"},
		{"newline in key", "t", "a\nb"},
		{"newline in topic", "a\nb", "k"},
		{"too long", "t", strings.Repeat("k", cluster.MaxMessage)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := l.Publish(ctx, tc.topic, tc.key); !errors.Is(err, cluster.ErrBadMessage) {
				t.Fatalf("Publish = %v, want ErrBadMessage", err)
			}
		})
	}
}

// TestNodeIDs: two node ids differ, and name the host.
func TestNodeIDs(t *testing.T) {
	a, b := cluster.NewNodeID(), cluster.NewNodeID()
	if a == b {
		t.Fatalf("two node ids are both %s", a)
	}
	if !strings.Contains(a, "-") || len(a) < 17 {
		t.Fatalf("node id %q lacks its random part", a)
	}
}
