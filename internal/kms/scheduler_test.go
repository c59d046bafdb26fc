package kms_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmstest"
	bolt "go.etcd.io/bbolt"
)

// TestTickSkipsDamagedKey damages the record of one key that is due for deletion, in two ways
// (a change its MAC catches; bytes that are no longer a record), and checks that a scheduler
// tick still deletes the other due key and rotates the key due for rotation, and reports the
// damaged key by id as a damaged record.
func TestTickSkipsDamagedKey(t *testing.T) {
	cases := []struct {
		name   string
		damage func(v []byte) []byte
	}{
		{"MAC no longer matches", func(v []byte) []byte { return bytes.Replace(v, []byte("tick damaged"), []byte("tick DAMAGED"), 1) }},
		{"not a record", func(v []byte) []byte { return v[:len(v)/2] }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			clock := kmstest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			s, db := newSvc(t, t.TempDir(), clock.Now)
			defer db.Close()
			create := func(desc string) string {
				m, err := s.CreateKey(ctx, alice, kms.CreateKeyInput{Description: desc})
				if err != nil {
					t.Fatal(err)
				}
				return m.KeyId
			}
			damaged, doomed, rotating := create("tick damaged"), create("tick doomed"), create("tick rotating")
			for _, id := range []string{damaged, doomed} {
				if _, err := s.ScheduleKeyDeletion(ctx, alice, id, 7); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.EnableKeyRotation(ctx, alice, rotating, 90); err != nil {
				t.Fatal(err)
			}
			err := db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("kms.keys"))
				v := tc.damage(bytes.Clone(b.Get([]byte(damaged))))
				return b.Put([]byte(damaged), v)
			})
			if err != nil {
				t.Fatal(err)
			}
			clock.Add(91 * 24 * time.Hour)
			err = s.Tick(ctx)
			if !errors.Is(err, kms.ErrStoreDamaged) || !strings.Contains(err.Error(), damaged) {
				t.Fatalf("Tick = %v, want a damaged record naming key %s", err, damaged)
			}
			if _, err := s.DescribeKey(ctx, alice, doomed); !errors.Is(err, kms.ErrNotFound) {
				t.Errorf("the other key due for deletion: DescribeKey = %v, want it deleted", err)
			}
			rots, _, err := s.ListKeyRotations(ctx, alice, rotating, kms.Page{})
			if err != nil || len(rots) != 1 {
				t.Errorf("the key due for rotation: %d rotations, %v; want 1", len(rots), err)
			}
		})
	}
}
