// Package pkcs11hsm is the PKCS#11 backend of the KMS's custom key stores and of a root key
// kept in an HSM: it logs in to a token of a PKCS#11 module (any HSM; SoftHSM2 in the tests),
// generates non-extractable AES-256 keys on it and runs AES-GCM with them inside the token.
// Key material never leaves the token. It implements kms.HSMs. It needs cgo
// (github.com/miekg/pkcs11 calls the module's C API); a binary built with CGO_ENABLED=0 still
// builds, and refuses any --hsm or --kms-root-pkcs11 at start.
package pkcs11hsm

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Config names one HSM: a PKCS#11 module and a token on it (by label, or by slot number),
// with where its crypto-user PIN is read from at each login (a file, or else an environment
// variable). The PIN itself is never part of a Config, so a Config can be printed and logged.
type Config struct {
	Name    string // the CloudHsmClusterId that names this HSM in the KMS API
	Module  string // path of the PKCS#11 library
	Token   string // token label; "" when the token is chosen by Slot
	Slot    uint   // the token's slot id, when BySlot
	BySlot  bool
	PINFile string
	PINEnv  string
	// Sessions bounds the sessions opened on the token, so that many operations run at once
	// (a PKCS#11 session runs one at a time); 0 means DefaultSessions.
	Sessions int
}

// DefaultSessions is the size of a token's session pool when Config.Sessions is 0.
const DefaultSessions = 8

// RootName is the Config.Name of the HSM that holds the KMS root key's wrapping key
// (--kms-root-pkcs11); it names no CloudHSM cluster.
const RootName = "kms-root"

// ParseFlag parses the value of a --hsm flag: name=NAME,module=PATH, token=LABEL or slot=N,
// one of pin-file=PATH or pin-env=VARIABLE, and optionally sessions=N.
func ParseFlag(v string) (Config, error) {
	c, _, err := parse(v, false)
	return c, err
}

// ParseRootFlag parses the value of a --kms-root-pkcs11 flag: as --hsm without name= (the
// Config is named RootName), plus an optional key-label=LABEL naming the wrapping key ("" when
// not given).
func ParseRootFlag(v string) (c Config, keyLabel string, err error) {
	return parse(v, true)
}

// parse reads the comma-separated key=value settings of v. Its errors name a setting by its
// position and, when the key is one of ours, its key, and never quote a value or an unknown
// key: a PIN pasted into the flag (a bare value, or a mistyped key) must not reach a terminal
// or a log.
func parse(v string, root bool) (Config, string, error) {
	var c Config
	var keyLabel string
	seen := make(map[string]bool)
	for i, part := range strings.Split(v, ",") {
		at := fmt.Sprintf("setting %d", i+1)
		k, val, ok := strings.Cut(part, "=")
		if !ok || k == "" || val == "" {
			return Config{}, "", fmt.Errorf("pkcs11hsm: %s is not key=value", at)
		}
		if !knownKey(k, root) {
			return Config{}, "", fmt.Errorf("pkcs11hsm: %s: unknown setting (not shown, in case it is a PIN)", at)
		}
		if k == "pin" {
			return Config{}, "", errors.New("pkcs11hsm: a PIN is never given on the command line: use pin-file= or pin-env=")
		}
		if seen[k] {
			return Config{}, "", fmt.Errorf("pkcs11hsm: %s: %s= is given twice", at, k)
		}
		seen[k] = true
		var bad string
		switch k {
		case "name":
			c.Name = val
		case "key-label":
			keyLabel = val
		case "module":
			c.Module = val
		case "token":
			c.Token = val
		case "slot":
			n, err := strconv.ParseUint(val, 10, 64)
			if err != nil || uint64(uint(n)) != n {
				bad = "not a slot number"
			}
			c.Slot, c.BySlot = uint(n), true
		case "sessions":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 1024 {
				bad = "not a number from 1 to 1024"
			}
			c.Sessions = n
		case "pin-file":
			c.PINFile = val
		case "pin-env":
			c.PINEnv = val
		}
		if bad != "" {
			return Config{}, "", fmt.Errorf("pkcs11hsm: %s: %s= is %s", at, k, bad)
		}
	}
	if root {
		c.Name = RootName
	}
	switch {
	case c.Name == "" || c.Module == "":
		return Config{}, "", errors.New("pkcs11hsm: name= and module= are required")
	case (c.Token == "") == !c.BySlot:
		return Config{}, "", errors.New("pkcs11hsm: give exactly one of token= and slot=")
	case (c.PINFile == "") == (c.PINEnv == ""):
		return Config{}, "", errors.New("pkcs11hsm: give exactly one of pin-file= and pin-env=")
	}
	return c, keyLabel, nil
}

// knownKey reports whether k is a setting of --hsm (root false) or --kms-root-pkcs11 (root
// true); pin is known, to be refused with its own message.
func knownKey(k string, root bool) bool {
	switch k {
	case "module", "token", "slot", "sessions", "pin-file", "pin-env", "pin":
		return true
	case "name":
		return !root
	case "key-label":
		return root
	}
	return false
}

// tokenName says which token c names, for messages.
func (c Config) tokenName() string {
	if c.BySlot {
		return fmt.Sprintf("in slot %d", c.Slot)
	}
	return fmt.Sprintf("labelled %q", c.Token)
}

// pin reads the crypto-user PIN.
func (c Config) pin() (string, error) {
	if c.PINEnv != "" {
		p, ok := os.LookupEnv(c.PINEnv)
		if !ok {
			return "", fmt.Errorf("pkcs11hsm: %s: environment variable %s is not set", c.Name, c.PINEnv)
		}
		return p, nil
	}
	b, err := os.ReadFile(c.PINFile)
	if err != nil {
		return "", fmt.Errorf("pkcs11hsm: %s: reading the PIN file: %w", c.Name, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
