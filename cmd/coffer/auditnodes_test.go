package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/audit/audittest"
	"github.com/coffer/coffer/internal/server"
)

// runNode starts and stops a real server on its own data directory and returns its node id.
func runNode(t *testing.T, dir string) string {
	t.Helper()
	srv, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", AccessKey: "AKIAAUDITNODES000001", SecretKey: "audit-nodes-secret-key-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	id := srv.NodeID()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(c); err != nil {
		t.Fatal(err)
	}
	if !server.ValidNodeID(id) || nodeIDOf(dir) != id {
		t.Fatalf("node id %q, %s holds %q", id, server.NodeIDFile, nodeIDOf(dir))
	}
	return id
}

// TestAuditVerifyNodes runs `coffer audit verify` on the data directories of several nodes
// (--data repeated): each node's chain is checked on its own and reported under its node id,
// with a total; one node's tampered chain fails the whole, and so does one node's chain given
// twice (another node's would go unchecked).
func TestAuditVerifyNodes(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	idA, idB := runNode(t, a), runNode(t, b)
	if idA == idB {
		t.Fatalf("two data directories have one node id %s", idA)
	}
	if again := runNode(t, a); again != idA {
		t.Fatalf("node id %s after a restart, was %s", again, idA)
	}
	// A node with log files in its chain, to tamper with.
	c := t.TempDir()
	audittest.BuildChain(t, filepath.Join(c, "audit"))
	const idC = "0c0c0c0c0c0c0c0c"
	if err := os.WriteFile(filepath.Join(c, server.NodeIDFile), []byte(idC+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("clean", func(t *testing.T) {
		code, out, errs := runCoffer("audit", "verify", "--data", a, "--data", b, "--data", c)
		for _, want := range []string{
			"node " + idA + ": " + a + "\n  " + filepath.Join(a, "audit") + ": 2 digests and 0 log files checked, 0 findings\n",
			"node " + idB + ": " + b + "\n  " + filepath.Join(b, "audit") + ": 1 digests and 0 log files checked, 0 findings\n",
			"node " + idC + ": " + c + "\n",
			"\n  valid: logs/",
			"total: 3 nodes, 7 digests and 5 log files checked, 0 findings, 0 nodes failed\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("stdout lacks %q", want)
			}
		}
		if code != 0 || t.Failed() {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	tamper := audittest.Tampers()[0]
	t.Run("one node tampered with", func(t *testing.T) {
		cp := t.TempDir()
		audittest.CopyDir(t, c, cp)
		file := tamper.Apply(t, filepath.Join(cp, "audit"))
		code, out, errs := runCoffer("audit", "verify", "--data", a, "--data", cp, "--data", b)
		if code != 1 || !strings.Contains(out, "\n  "+tamper.Kind+": "+file+": ") ||
			!strings.Contains(out, "total: 3 nodes, 7 digests and 5 log files checked, 1 findings, 1 nodes failed\n") {
			t.Fatalf("exit %d (want 1), stdout %q (want %s: %s), stderr %q", code, out, tamper.Kind, file, errs)
		}
	})
	t.Run("one node given twice", func(t *testing.T) {
		cp := t.TempDir()
		audittest.CopyDir(t, a, cp)
		code, out, errs := runCoffer("audit", "verify", "--data", a, "--data", cp)
		if code != 1 || !strings.Contains(out, "same node: "+a+" and "+cp+" are both node "+idA) {
			t.Fatalf("exit %d (want 1), stdout %q, stderr %q", code, out, errs)
		}
		// A copy of the audit folder alone has no node id: its signing key tells it.
		code, out, errs = runCoffer("audit", "verify", "--data", a, "--data", filepath.Join(cp, "audit"))
		if code != 1 || !strings.Contains(out, "same node: "+a+" and "+filepath.Join(cp, "audit")+" hold the signing key ") {
			t.Fatalf("audit folder: exit %d (want 1), stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("one node with nothing to check", func(t *testing.T) {
		code, out, errs := runCoffer("audit", "verify", "--data", a, "--data", t.TempDir())
		if code != 1 || !strings.Contains(errs, "no digest to check") || !strings.Contains(out, "1 nodes failed") {
			t.Fatalf("exit %d (want 1), stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("an empty --data", func(t *testing.T) {
		if code, _, _ := runCoffer("audit", "verify", "--data", a, "--data", ""); code != 2 {
			t.Fatalf("exit %d, want 2", code)
		}
	})
}
