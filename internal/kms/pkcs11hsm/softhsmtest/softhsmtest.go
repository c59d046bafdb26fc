// Package softhsmtest gives tests a fresh SoftHSM2 token: its own token directory and
// configuration (SOFTHSM2_CONF) in a temporary directory, initialised with softhsm2-util.
// SoftHSM2 is Debian's softhsm2 package, which .ci/run installs; a test that needs it fails
// when it is missing, it is never skipped.
package softhsmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/coffer/coffer/internal/kms/pkcs11hsm"
)

// Module is where Debian installs SoftHSM2's PKCS#11 library.
const Module = "/usr/lib/softhsm/libsofthsm2.so"

// PIN is the crypto-user PIN of the tokens Token makes.
const PIN = "coffer-user-pin"

// Token initialises a token labelled label in a new SoftHSM2 configuration and returns the
// HSM configuration of it named name, with its PIN in a file the test may rewrite.
func Token(t testing.TB, name, label string) pkcs11hsm.Config {
	t.Helper()
	if _, err := os.Stat(Module); err != nil {
		t.Fatalf("SoftHSM2 is not installed (%v): apt-get install softhsm2 (.ci/run installs it)", err)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	text := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label,
		"--pin", PIN, "--so-pin", "coffer-so-pin").CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --init-token: %v: %s", err, out)
	}
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte(PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return pkcs11hsm.Config{Name: name, Module: Module, Token: label, PINFile: pinFile}
}
