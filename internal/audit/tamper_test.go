package audit_test

import (
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
