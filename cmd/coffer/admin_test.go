package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/secret/secrettest"
	"github.com/coffer/coffer/internal/server"
)

// stoppedServerDir is a data directory made by a real server with the root key ak/sk, which
// ran until its start-up sweep finished and was then stopped.
func stoppedServerDir(t *testing.T, ak, sk string) string {
	t.Helper()
	dir := t.TempDir()
	srv, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", AccessKey: ak, SecretKey: sk})
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	<-srv.Swept()
	if err := srv.Shutdown(c); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestAdminCheck runs `coffer admin check` on a clean directory made by a real server, then on
// one with a blob removed and one with an unnamed blob, and checks output and exit status, and
// that the check changed nothing.
func TestAdminCheck(t *testing.T) {
	dir := stoppedServerDir(t, "AKIAADMINCHECK000001", "admin-check-secret-key-0123456789abcdef")
	blob := filepath.Join(dir, "blobs", "blobs", "o~", "ab~", "abababababababababababababababab")
	cases := []struct {
		name    string
		prepare func(t *testing.T)
		code    int
		want    string
	}{
		{"clean", func(*testing.T) {}, 0, "0 findings"},
		{"plaintext root secret of an older Coffer", func(t *testing.T) {
			old := `{"account_id": "123456789012", "access_key": "AKOLDROOTKEY00000001", "secret_key": "old-plaintext-secret-0123456789abcdefghi"}`
			if err := os.WriteFile(filepath.Join(dir, "credentials.json"), []byte(old), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 0, "note: credentials.json holds the root secret key in plaintext"},
		{"unnamed blob", func(t *testing.T) {
			if err := os.MkdirAll(filepath.Dir(blob), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(blob, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 1, "damaged: blob o/ab/abababababababababababababababab: no record or intent names it"},
		{"damaged meta.db", func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "meta.db"), bytes.Repeat([]byte{0xA5}, 64<<10), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 1, "damaged: meta.db"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.prepare(t)
			before, _ := os.ReadFile(filepath.Join(dir, "meta.db"))
			var out, errb bytes.Buffer
			code := run([]string{"admin", "check", "--data", dir}, &out, &errb, func(string) string { return "" })
			if code != tc.code || !strings.Contains(out.String(), tc.want) {
				t.Fatalf("exit %d (want %d), output %q (want %q), stderr %q", code, tc.code, out.String(), tc.want, errb.String())
			}
			if after, _ := os.ReadFile(filepath.Join(dir, "meta.db")); !bytes.Equal(before, after) {
				t.Fatal("admin check changed meta.db")
			}
		})
	}
}

// TestAdminAccountCreate adds an account to a stopped server's directory, refuses while the
// server runs, and checks that the printed root key signs for the new account after a restart.
func TestAdminAccountCreate(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{Dir: dir, Listen: "127.0.0.1:0", AccessKey: "AKIAADMINACCOUNT0001", SecretKey: "admin-account-secret-key-0123456789abcd"}
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	env := func(string) string { return "" }
	if code := run([]string{"admin", "account", "create", "--data", dir}, &out, &errb, env); code != 1 || !strings.Contains(errb.String(), "still running") {
		t.Errorf("while running: exit %d, stderr %q", code, errb.String())
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(c); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"admin", "account", "create", "--data", dir, "--name", "team-b"}, &out, &errb, env); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	var id, ak, sk string
	if _, err := fmt.Sscanf(out.String(), "account %s (team-b) created; its root access key, shown only now:\n  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s", &id, &ak, &sk); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	secrettest.ScanDir(t, dir, map[string][]byte{"new account's root secret key": []byte(sk)}, 4)
	srv, err = server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(c)
	dir2, ok := srv.Directory().Account(id)
	if !ok || dir2.DisplayName != "team-b" {
		t.Fatalf("account %s: %+v %v", id, dir2, ok)
	}
	cred, err := srv.Directory().Lookup(c, ak, "")
	if err != nil || cred.Principal.AccountID != id || !cred.Principal.Root || string(cred.Secret.RevealBytes()) != sk {
		t.Fatalf("Lookup(%s) = %+v, %v", ak, cred.Principal, err)
	}
}

// TestAdminCompact compacts a stopped server's meta.db: refused while the server runs, done
// after, and the server starts again on the compacted file.
func TestAdminCompact(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{Dir: dir, Listen: "127.0.0.1:0", AccessKey: "AKIAADMINCOMPACT0001", SecretKey: "admin-compact-secret-key-0123456789abcd"}
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	env := func(string) string { return "" }
	if code := run([]string{"admin", "compact", "--data", dir}, &out, &errb, env); code != 1 || !strings.Contains(errb.String(), "is a server running") {
		t.Errorf("while running: exit %d, stderr %q", code, errb.String())
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(c); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"admin", "compact", "--data", dir}, &out, &errb, env); code != 0 || !strings.Contains(out.String(), "meta.db compacted") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	srv, err = server.Start(cfg)
	if err != nil {
		t.Fatalf("start on the compacted meta.db: %v", err)
	}
	if err := srv.Shutdown(c); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"admin", "check", "--data", dir}, &out, &errb, env); code != 0 {
		t.Fatalf("admin check after compaction: exit %d, %q", code, out.String())
	}
}
