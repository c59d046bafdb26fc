// Package pkcs11hsm is the PKCS#11 backend of the KMS's custom key stores: it logs in to a
// token of a PKCS#11 module (any HSM; SoftHSM2 in the tests), generates non-extractable
// AES-256 keys on it and runs AES-GCM with them inside the token. Key material never leaves
// the token. It implements kms.HSMs. It needs cgo (github.com/miekg/pkcs11 calls the module's C
// API); a binary built with CGO_ENABLED=0 still builds, and refuses any --hsm at start.
package pkcs11hsm

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Config names one HSM: a PKCS#11 module and a token on it, with where its crypto-user PIN is
// read from at each connection (a file, or else an environment variable). The PIN itself is
// never part of a Config, so a Config can be printed and logged.
type Config struct {
	Name    string // the CloudHsmClusterId that names this HSM in the KMS API
	Module  string // path of the PKCS#11 library
	Token   string // token label
	PINFile string
	PINEnv  string
}

// ParseFlag parses the value of a --hsm flag: name=NAME,module=PATH,token=LABEL and one of
// pin-file=PATH or pin-env=VARIABLE.
func ParseFlag(v string) (Config, error) {
	var c Config
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(part, "=")
		if !ok || val == "" {
			return Config{}, fmt.Errorf("pkcs11hsm: %q: want key=value", part)
		}
		switch k {
		case "name":
			c.Name = val
		case "module":
			c.Module = val
		case "token":
			c.Token = val
		case "pin-file":
			c.PINFile = val
		case "pin-env":
			c.PINEnv = val
		case "pin":
			return Config{}, errors.New("pkcs11hsm: a PIN is never given on the command line: use pin-file= or pin-env=")
		default:
			return Config{}, fmt.Errorf("pkcs11hsm: unknown setting %q", k)
		}
	}
	switch {
	case c.Name == "" || c.Module == "" || c.Token == "":
		return Config{}, errors.New("pkcs11hsm: name=, module= and token= are required")
	case (c.PINFile == "") == (c.PINEnv == ""):
		return Config{}, errors.New("pkcs11hsm: give exactly one of pin-file= and pin-env=")
	}
	return c, nil
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
