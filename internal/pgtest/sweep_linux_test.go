package pgtest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSweepStale: Start removes the directory of a cluster whose test process died (its owner
// lock is free) and leaves one whose owner runs.
func TestSweepStale(t *testing.T) {
	stale, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, ownerLock), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	live, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(live) })
	owner, err := holdDir(live)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	sweepStale(os.TempDir())
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale directory %s not removed (%v)", stale, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatalf("live directory %s removed: %v", live, err)
	}
}
