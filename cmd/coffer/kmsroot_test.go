//go:build cgo

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/kms/pkcs11hsm/softhsmtest"
)

// TestAdminKMSRoot moves a real server's root key into SoftHSM2 and out again with `coffer
// admin kms-root`, checks the directory with `coffer admin check --kms-root-pkcs11` in
// between, and refuses bad invocations without showing a PIN.
func TestAdminKMSRoot(t *testing.T) {
	tok := softhsmtest.Token(t, "kms-root", "admin-root")
	dir := stoppedServerDir(t, "AKIAADMINKMSROOT0001", "admin-kms-root-secret-key-0123456789abc")
	plain := filepath.Join(dir, "kms", "root.key")
	rootKey, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	hsm := "module=" + tok.Module + ",token=" + tok.Token + ",pin-file=" + tok.PINFile
	cases := []struct {
		name  string
		args  []string
		code  int
		want  string
		plain bool // whether root.key exists afterwards
	}{
		{"no HSM named", []string{"admin", "kms-root", "wrap", "--data", dir}, 2, "--kms-root-pkcs11 are required", true},
		{"PIN on the command line", []string{"admin", "kms-root", "wrap", "--data", dir, "--kms-root-pkcs11", "module=m,token=t,pin=secret-pin-1"}, 2,
			"never given on the command line", true},
		{"unknown verb", []string{"admin", "kms-root", "rewrap", "--data", dir, "--kms-root-pkcs11", hsm}, 2, "usage: coffer admin", true},
		{"wrap", []string{"admin", "kms-root", "wrap", "--data", dir, "--kms-root-pkcs11", hsm}, 0, "is now wrapped by the HSM", false},
		{"wrap again", []string{"admin", "kms-root", "wrap", "--data", dir, "--kms-root-pkcs11", hsm}, 1, "is already wrapped", false},
		{"check without the HSM", []string{"admin", "check", "--data", dir}, 1, "check with --kms-root-pkcs11", false},
		{"check with the HSM", []string{"admin", "check", "--data", dir, "--kms-root-pkcs11", hsm}, 0, "0 findings", false},
		{"account create with the HSM", []string{"admin", "account", "create", "--data", dir, "--kms-root-pkcs11", hsm}, 0, "created", false},
		{"unwrap", []string{"admin", "kms-root", "unwrap", "--data", dir, "--kms-root-pkcs11", hsm}, 0, "is a file again", true},
		{"unwrap again", []string{"admin", "kms-root", "unwrap", "--data", dir, "--kms-root-pkcs11", hsm}, 1, "no wrapped root key", true},
		{"check after unwrap", []string{"admin", "check", "--data", dir}, 0, "0 findings", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb, func(string) string { return "" })
			all := out.String() + errb.String()
			if code != tc.code || !strings.Contains(all, tc.want) {
				t.Fatalf("exit %d (want %d), output %q (want %q)", code, tc.code, all, tc.want)
			}
			if strings.Contains(all, softhsmtest.PIN) || strings.Contains(all, "secret-pin-1") {
				t.Fatalf("the output shows a PIN: %q", all)
			}
			_, err := os.Stat(plain)
			if (err == nil) != tc.plain {
				t.Fatalf("root.key exists: %v, want %v", err == nil, tc.plain)
			}
		})
	}
	if got, _ := os.ReadFile(plain); !bytes.Equal(got, rootKey) {
		t.Fatal("the round trip changed the root key")
	}
}
