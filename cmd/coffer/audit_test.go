package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/audit/audittest"
	"github.com/coffer/coffer/internal/server"
)

func runCoffer(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

// TestAuditVerifyCommand runs `coffer audit verify` on a clean chain built across a restart,
// on a copy of its audit folder alone, and on a copy damaged by each tamper case: exit 0 and
// every log file valid when clean, exit 1 and the finding when tampered with.
func TestAuditVerifyCommand(t *testing.T) {
	data := t.TempDir()
	audittest.BuildChain(t, filepath.Join(data, "audit"))
	t.Run("clean", func(t *testing.T) {
		code, out, errs := runCoffer("audit", "verify", "--data", data)
		if code != 0 || strings.Count(out, "valid: logs/") != 5 || !strings.Contains(out, "4 digests and 5 log files checked, 0 findings") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("a copy of the audit folder", func(t *testing.T) {
		cp := t.TempDir()
		audittest.CopyDir(t, filepath.Join(data, "audit"), cp)
		if code, out, errs := runCoffer("audit", "verify", "--data", cp); code != 0 || !strings.Contains(out, " 0 findings") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("a time range", func(t *testing.T) {
		// The digests end at 10:10, 10:20, 10:30 and 10:40: two end after 10:25.
		code, out, errs := runCoffer("audit", "verify", "--data", data, "--from", "2026-12-02T10:25:00Z", "--to", "2026-12-02T11:00:00Z")
		if code != 0 || !strings.Contains(out, "2 digests and 2 log files checked, 0 findings") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	for _, tc := range audittest.Tampers() {
		t.Run(tc.Name, func(t *testing.T) {
			cp := t.TempDir()
			audittest.CopyDir(t, data, cp)
			file := tc.Apply(t, filepath.Join(cp, "audit"))
			code, out, errs := runCoffer("audit", "verify", "--data", cp)
			if code != 1 || !strings.Contains(out, tc.Kind+": "+file+": ") {
				t.Fatalf("exit %d (want 1), stdout %q (want %s: %s), stderr %q", code, out, tc.Kind, file, errs)
			}
		})
	}
	t.Run("a key planted under keys/", func(t *testing.T) {
		// Every key under keys/ is trusted unless the fingerprints ListPublicKeys gives are
		// pinned: with the server's own pinned, the digest signed by the planted key is found.
		keys, err := audit.PublicKeys(filepath.Join(data, "audit"))
		if err != nil || len(keys) != 1 {
			t.Fatalf("PublicKeys = %v, %v", keys, err)
		}
		cp := t.TempDir()
		audittest.CopyDir(t, data, cp)
		file := audittest.PlantKey(t, filepath.Join(cp, "audit"))
		if code, out, errs := runCoffer("audit", "verify", "--data", cp); code != 0 {
			t.Fatalf("unpinned: exit %d (want 0: the planted key is under keys/), stdout %q, stderr %q", code, out, errs)
		}
		code, out, errs := runCoffer("audit", "verify", "--data", cp, "--public-key", strings.ToUpper(keys[0].Fingerprint))
		if code != 1 || !strings.Contains(out, audit.FindingUnknownKey+": "+file+": ") {
			t.Fatalf("pinned: exit %d (want 1), stdout %q (want %s: %s), stderr %q", code, out, audit.FindingUnknownKey, file, errs)
		}
		if code, out, errs := runCoffer("audit", "verify", "--data", data, "--public-key", keys[0].Fingerprint); code != 0 {
			t.Fatalf("pinned, untouched chain: exit %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("a file name forging a line", func(t *testing.T) {
		// A file no digest lists, named to print as another line of the report: it is
		// reported on one line, its name quoted.
		cp := t.TempDir()
		audittest.CopyDir(t, data, cp)
		logs := audittest.Files(t, filepath.Join(cp, "audit"), "logs", ".json.gz")
		forged := filepath.Join(cp, "audit", filepath.Dir(logs[0]), "x\nvalid: forged.json.gz")
		if err := os.WriteFile(forged, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, _ := runCoffer("audit", "verify", "--data", cp)
		if code != 1 || strings.Contains(out, "\nvalid: forged") || !strings.Contains(out, `x\nvalid: forged.json.gz"`) {
			t.Fatalf("exit %d, stdout %q", code, out)
		}
	})
	t.Run("nothing to check", func(t *testing.T) {
		for _, args := range [][]string{{"--data", t.TempDir()}, {"--data", data, "--from", "2027-01-01T00:00:00Z"}} {
			if code, _, errs := runCoffer(append([]string{"audit", "verify"}, args...)...); code != 1 || !strings.Contains(errs, "no digest to check") {
				t.Errorf("%v: exit %d, stderr %q", args, code, errs)
			}
		}
	})
	t.Run("bad usage", func(t *testing.T) {
		for _, args := range [][]string{{"audit", "verify"}, {"audit", "verify", "--data", data, "--from", "yesterday"}, {"audit", "nothing"}} {
			if code, _, _ := runCoffer(args...); code != 2 {
				t.Errorf("%v: exit %d, want 2", args, code)
			}
		}
	})
}

// TestAuditEventsCommand filters the records of a chain with `coffer audit events`.
func TestAuditEventsCommand(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "audit")
	audittest.BuildChain(t, dir)
	// A record of another user and operation, left in the journal of a Writer not closed.
	s, err := audit.OpenSigner(context.Background(), t.TempDir(), audittest.NewSealer())
	if err != nil {
		t.Fatal(err)
	}
	clk := audittest.NewClock()
	clk.Add(2 * time.Hour)
	w, err := audit.Open(context.Background(), audit.Config{Dir: dir, Signer: s, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := audittest.Event(100)
	e.EventName, e.UserIdentity.UserName = "GenerateDataKey", "bob"
	e.Resources[0].ARN = "arn:aws:kms:us-east-1:111122223333:key/key-2"
	if err := w.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	numbers := func(out string) []int {
		var ns []int
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if line == "" {
				continue
			}
			var e audit.Event
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			ns = append(ns, int(e.RequestParameters["n"].(float64)))
		}
		return ns
	}
	cases := []struct {
		name string
		args []string
		want []int
	}{
		{"all, newest first", nil, []int{100, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"limit", []string{"--limit", "3"}, []int{100, 13, 12}},
		{"user", []string{"--user", "bob"}, []int{100}},
		{"event name", []string{"--event-name", "Decrypt", "--limit", "1"}, []int{13}},
		{"key id", []string{"--key", "key-2"}, []int{100}},
		{"key ARN", []string{"--key", "arn:aws:kms:us-east-1:111122223333:key/key-2"}, []int{100}},
		{"time range", []string{"--from", "2026-12-02T10:10:00Z", "--to", "2026-12-02T10:20:00Z"}, []int{9, 8, 7, 6, 5}},
		{"nothing", []string{"--user", "carol"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCoffer(append([]string{"audit", "events", "--data", data}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			if got := numbers(out); !slices.Equal(got, tc.want) {
				t.Errorf("records %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("table", func(t *testing.T) {
		code, out, errs := runCoffer("audit", "events", "--data", data, "--user", "bob", "--output", "table")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "TIME") ||
			!strings.Contains(lines[1], "GenerateDataKey") || !strings.Contains(lines[1], "bob") || !strings.Contains(lines[1], "key/key-2") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
		}
	})
	t.Run("bad output", func(t *testing.T) {
		if code, _, _ := runCoffer("audit", "events", "--data", data, "--output", "xml"); code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestAuditOfRealServer starts a real server, stops it, and verifies its audit folder: the
// final digest of the run is there, signed by the key the KMS sealed, and the chain verifies
// after a second run.
func TestAuditOfRealServer(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{Dir: dir, Listen: "127.0.0.1:0", AccessKey: "AKIAAUDITSERVER00001", SecretKey: "audit-server-secret-key-0123456789abcdef"}
	for run := range 2 {
		srv, err := server.Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if srv.AuditDir() != filepath.Join(dir, "audit") {
			t.Fatalf("AuditDir = %q", srv.AuditDir())
		}
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := srv.Shutdown(c); err != nil {
			t.Fatal(err)
		}
		cancel()
		digests := audittest.Files(t, filepath.Join(dir, "audit"), "digests", ".json.gz")
		if len(digests) != run+1 {
			t.Fatalf("run %d: digests %v, want one final digest a run", run, digests)
		}
	}
	keys := audittest.Files(t, filepath.Join(dir, "audit"), "keys", "")
	if len(keys) != 3 || !strings.HasSuffix(keys[0], ".json") || !strings.HasSuffix(keys[1], ".key.sealed") || !strings.HasSuffix(keys[2], ".pub.der") {
		t.Fatalf("keys/ holds %v, want the metadata, sealed private key and public key of one key", keys)
	}
	if code, out, errs := runCoffer("audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "2 digests and 0 log files checked, 0 findings") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// --no-audit keeps nothing.
	cfg.NoAudit = true
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if srv.AuditDir() != "" {
		t.Errorf("AuditDir with NoAudit = %q", srv.AuditDir())
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(audittest.Files(t, filepath.Join(dir, "audit"), "digests", ".json.gz")); n != 2 {
		t.Errorf("%d digests after a run with NoAudit, want still 2", n)
	}
}

// TestAuditEventsTableEscapes: what a caller chose (an object key with a newline and terminal
// escapes, recorded as a resource) can neither add a forged row to the table nor reach the
// terminal raw.
func TestAuditEventsTableEscapes(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "audit")
	s, err := audit.OpenSigner(context.Background(), dir, audittest.NewSealer())
	if err != nil {
		t.Fatal(err)
	}
	w, err := audit.Open(context.Background(), audit.Config{Dir: dir, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	e := audittest.Event(1)
	e.Resources = []audit.Resource{{Type: "AWS::S3::Object", ARN: "arn:aws:s3:::b/x\n2026-12-02T10:00:00Z\tkms\tScheduleKeyDeletion\troot\t\t\x1b]0;owned\x07"}}
	if err := w.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCoffer("audit", "events", "--data", data, "--output", "table")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); len(lines) != 2 || strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("table %q: want a header and one row, no control characters", out)
	}
}
