package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHSMFlagsHidePIN pastes a PIN into --hsm and --kms-root-pkcs11 of every command that
// takes them: each refuses the flag (exit 2) and shows the PIN in no error or log line.
func TestHSMFlagsHidePIN(t *testing.T) {
	const pin = "5581-0937"
	dir := t.TempDir()
	hsm := "name=cluster-a,module=/x,token=t," + pin
	root := "module=/x,token=t,pn=" + pin
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"server --hsm", []string{"server", "--data", dir, "--hsm", hsm}, "--hsm: pkcs11hsm: setting 4 is not key=value"},
		{"server --kms-root-pkcs11", []string{"server", "--data", dir, "--kms-root-pkcs11", root}, "--kms-root-pkcs11: pkcs11hsm: setting 3: unknown setting"},
		{"admin kms-root wrap", []string{"admin", "kms-root", "wrap", "--data", dir, "--kms-root-pkcs11", root}, "setting 3: unknown setting"},
		{"admin kms-root unwrap", []string{"admin", "kms-root", "unwrap", "--data", dir, "--kms-root-pkcs11", "module=/x," + pin}, "setting 2 is not key=value"},
		{"admin check", []string{"admin", "check", "--data", dir, "--kms-root-pkcs11", root}, "setting 3: unknown setting"},
		{"admin account create", []string{"admin", "account", "create", "--data", dir, "--kms-root-pkcs11", root}, "setting 3: unknown setting"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb, func(string) string { return "" })
			all := out.String() + errb.String()
			if code != 2 || !strings.Contains(all, tc.want) {
				t.Fatalf("exit %d (want 2), output %q (want %q)", code, all, tc.want)
			}
			if strings.Contains(all, pin) {
				t.Fatalf("the output shows the PIN: %q", all)
			}
		})
	}
}
