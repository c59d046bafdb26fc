package audit_test

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/audit/audittest"
)

func TestVerifyCleanChainAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	audittest.BuildChain(t, dir)
	rep, err := audit.Verify(dir, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 {
		t.Errorf("findings on a clean chain: %v", rep.Findings)
	}
	if rep.Digests != 4 || rep.LogFiles != 5 || len(rep.Valid) != 5 {
		t.Errorf("checked %d digests, %d log files (%d valid), want 4, 5, 5", rep.Digests, rep.LogFiles, len(rep.Valid))
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	pristine := t.TempDir()
	audittest.BuildChain(t, pristine)
	for _, tc := range audittest.Tampers() {
		t.Run(tc.Name, func(t *testing.T) {
			dir := t.TempDir()
			audittest.CopyDir(t, pristine, dir)
			file := tc.Apply(t, dir)
			rep, err := audit.Verify(dir, time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v", rep.Findings)
			if !slices.ContainsFunc(rep.Findings, func(f audit.Finding) bool { return f.Kind == tc.Kind && f.File == file }) {
				t.Errorf("no %s finding for %s; findings: %v", tc.Kind, file, rep.Findings)
			}
		})
	}
}

// TestVerifyGzipBomb: a listed log file replaced by a gzip bomb (200 MiB of zeros in a few
// hundred KiB) is reported modified, and Verify hashes it as a stream: its memory does not
// grow with what the file expands to.
func TestVerifyGzipBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses 200 MiB")
	}
	dir := t.TempDir()
	audittest.BuildChain(t, dir)
	f := audittest.Files(t, dir, "logs", ".json.gz")[1]
	out, err := os.Create(filepath.Join(dir, f))
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(out, gzip.BestSpeed)
	zeros := make([]byte, 1<<20)
	for range 200 {
		zw.Write(zeros)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out.Close()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rep, err := audit.Verify(dir, time.Time{}, time.Time{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rep.Findings, func(x audit.Finding) bool { return x.Kind == audit.FindingModified && x.File == f }) {
		t.Errorf("no modified finding for %s: %v", f, rep.Findings)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("Verify allocated %d MiB for a 200 MiB gzip bomb", alloc>>20)
	}
}
