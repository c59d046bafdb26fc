package kms_test

import (
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
)

// BenchmarkNoteUse measures what tracking the last use adds to each cryptographic call: one
// mutex-guarded map write, no I/O (uses are flushed in batches).
func BenchmarkNoteUse(b *testing.B) {
	s, db := newSvc(b, b.TempDir(), nil)
	defer db.Close()
	arns := []string{s.KeyARN("111122223333", "1234abcd-12ab-34cd-56ef-1234567890ab")}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.NoteUse(arns, "GenerateDataKey", time.Now(), "event", "request")
		}
	})
}

// TestLastUsageFlush: a use is visible at once in memory, reaches the store with FlushUsage,
// and is read back by another service over the same store (as after a restart, or by another
// server sharing it); uses of operations that are not cryptographic are not kept.
func TestLastUsageFlush(t *testing.T) {
	dir := t.TempDir()
	s, db := newSvc(t, dir, nil)
	m, err := s.CreateKey(t.Context(), alice, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	s.NoteUse([]string{m.Arn}, "DescribeKey", at.Add(time.Second), "ignored", "ignored")
	s.NoteUse([]string{m.Arn}, "Encrypt", at, "event-1", "request-1")
	got, err := s.GetKeyLastUsage(t.Context(), alice, m.KeyId)
	if err != nil || got.Usage == nil || got.Usage.Operation != "Encrypt" || got.Usage.EventID != "event-1" || !got.Usage.Time.Equal(at) {
		t.Fatalf("in memory: %+v %v", got.Usage, err)
	}
	if err := s.FlushUsage(t.Context()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s2, db2 := newSvc(t, dir, nil)
	defer db2.Close()
	got2, err := s2.GetKeyLastUsage(t.Context(), alice, m.KeyId)
	if err != nil || got2.Usage == nil || *got2.Usage != *got.Usage || !got2.TrackingStartDate.Equal(got.TrackingStartDate) {
		t.Fatalf("from the store: %+v (tracking from %v) %v, want %+v (from %v)", got2.Usage, got2.TrackingStartDate, err, got.Usage, got.TrackingStartDate)
	}
}
