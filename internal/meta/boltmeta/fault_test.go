package boltmeta_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/boltmeta"
)

// TestFaultIsAnError: a page of meta.db that faults when read (here: the file truncated under
// its mapping, so every read is a SIGBUS) fails the call with boltfile.ErrDamaged in whatever
// goroutine makes it (the object layer records write intents from a goroutine of its own, and
// the goroutine that leads a shared commit runs other callers' writes), and every later call
// fails the same way instead of waiting for ever on the locks bbolt held when it faulted.
func TestFaultIsAnError(t *testing.T) {
	ctx := context.Background()
	first := []struct {
		name string
		call func(s *boltmeta.Store) error
	}{
		{"RecordIntent", func(s *boltmeta.Store) error {
			return s.RecordIntent(ctx, meta.Intent{Blob: "o/ab/ab", Bucket: "b", Key: "k", Created: time.Now()})
		}},
		{"PutObject", func(s *boltmeta.Store) error {
			_, err := s.PutObject(ctx, meta.Object{Bucket: "b", Key: "k2", Parts: []meta.Part{{Inline: []byte("x"), Size: 1}}})
			return err
		}},
		{"GetObject", func(s *boltmeta.Store) error { _, err := s.GetObject(ctx, "b", "k"); return err }},
		{"ListIntents", func(s *boltmeta.Store) error { _, err := s.ListIntents(ctx, time.Now(), 0); return err }},
	}
	for _, tc := range first {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "meta.db")
			// The DB is never closed: after a fault bbolt may hold its own locks for ever,
			// and Close would wait on them.
			db, err := boltmeta.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := boltmeta.New(db)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.CreateBucket(ctx, meta.Bucket{Name: "b"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.PutObject(ctx, meta.Object{Bucket: "b", Key: "k", Parts: []meta.Part{{Inline: []byte("x"), Size: 1}}}); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
			for i, call := range []func(*boltmeta.Store) error{tc.call, first[0].call, first[1].call, first[2].call} {
				done := make(chan error, 1)
				go func() { done <- call(s) }() // a goroutine that never set SetPanicOnFault
				select {
				case err := <-done:
					if !errors.Is(err, boltfile.ErrDamaged) {
						t.Fatalf("call %d: err = %v, want boltfile.ErrDamaged", i, err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("call %d hangs after a fault", i)
				}
			}
		})
	}
}
