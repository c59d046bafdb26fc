package kms_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmstest"
)

// TestAliasResolutionFollowsWrites: naming a key by alias reads the account's cached aliases
// (no store read per request), and every write of an alias, and the destruction of its key, is
// seen by the next request.
func TestAliasResolutionFollowsWrites(t *testing.T) {
	ctx := context.Background()
	clock := kmstest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, db := newSvc(t, t.TempDir(), clock.Now)
	defer db.Close()
	var ids [2]string
	for i := range ids {
		m, err := s.CreateKey(ctx, alice, kms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = m.KeyId
	}
	steps := []struct {
		name  string
		write func() error
		want  string // the key alias/app names; "" for none
	}{
		{"no alias yet", func() error { return nil }, ""},
		{"created", func() error { return s.CreateAlias(ctx, alice, "alias/app", ids[0]) }, ids[0]},
		{"retargeted", func() error { return s.UpdateAlias(ctx, alice, "alias/app", ids[1]) }, ids[1]},
		{"deleted", func() error { return s.DeleteAlias(ctx, alice, "alias/app") }, ""},
		{"created again", func() error { return s.CreateAlias(ctx, alice, "alias/app", ids[1]) }, ids[1]},
		{"its key destroyed", func() error {
			if _, err := s.ScheduleKeyDeletion(ctx, alice, ids[1], 7); err != nil {
				return err
			}
			clock.Add(8 * 24 * time.Hour)
			return s.Tick(ctx)
		}, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.write(); err != nil {
				t.Fatal(err)
			}
			m, err := s.DescribeKey(ctx, alice, "alias/app")
			switch {
			case st.want == "" && !errors.Is(err, kms.ErrNotFound):
				t.Fatalf("DescribeKey alias/app = %v, want NotFound", err)
			case st.want != "" && (err != nil || m.KeyId != st.want):
				t.Fatalf("DescribeKey alias/app = %s, %v; want %s", m.KeyId, err, st.want)
			}
		})
	}
}
