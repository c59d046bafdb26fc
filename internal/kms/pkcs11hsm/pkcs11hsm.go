// Package pkcs11hsm is the PKCS#11 backend of the KMS's custom key stores: it logs in to a
// token of a PKCS#11 module (any HSM; SoftHSM2 in the tests), generates non-extractable
// AES-256 keys on it and runs AES-GCM with them inside the token. Key material never leaves
// the token. It implements kms.HSMs.
package pkcs11hsm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/coffer/coffer/internal/kms"
	"github.com/miekg/pkcs11"
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

// HSMs is the set of configured HSMs. Each module is loaded once and shared by the tokens
// that use it.
type HSMs struct {
	mu      sync.Mutex // guards modules
	configs map[string]Config
	modules map[string]*module
}

var _ kms.HSMs = (*HSMs)(nil)

// module is one loaded and initialised PKCS#11 library.
type module struct {
	ctx  *pkcs11.Ctx
	refs int
}

// New returns the HSMs of cfgs; their modules are loaded at the first Connect.
func New(cfgs []Config) (*HSMs, error) {
	h := &HSMs{configs: make(map[string]Config), modules: make(map[string]*module)}
	for _, c := range cfgs {
		if _, dup := h.configs[c.Name]; dup {
			return nil, fmt.Errorf("pkcs11hsm: HSM %q is configured twice", c.Name)
		}
		h.configs[c.Name] = c
	}
	return h, nil
}

// Has reports whether an HSM of that name is configured.
func (h *HSMs) Has(name string) bool {
	_, ok := h.configs[name]
	return ok
}

// Connect opens a session on the named HSM's token and logs in as the crypto user.
func (h *HSMs) Connect(_ context.Context, name string) (kms.HSMToken, error) {
	c, ok := h.configs[name]
	if !ok {
		return nil, fmt.Errorf("pkcs11hsm: %s: %w", name, kms.ErrHSMNotFound)
	}
	p, err := h.load(c.Module)
	if err != nil {
		return nil, err
	}
	t, err := openToken(p, c)
	if err != nil {
		h.unload(c.Module)
		return nil, err
	}
	t.release = func() { h.unload(c.Module) }
	return t, nil
}

func (h *HSMs) load(path string) (*pkcs11.Ctx, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m := h.modules[path]; m != nil {
		m.refs++
		return m.ctx, nil
	}
	p := pkcs11.New(path)
	if p == nil {
		return nil, fmt.Errorf("pkcs11hsm: cannot load the PKCS#11 module %s: %w", path, kms.ErrHSMUnreachable)
	}
	if err := p.Initialize(); err != nil && !isCode(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		p.Destroy()
		return nil, fmt.Errorf("pkcs11hsm: initialising %s: %w: %w", path, kms.ErrHSMUnreachable, err)
	}
	h.modules[path] = &module{ctx: p, refs: 1}
	return p, nil
}

func (h *HSMs) unload(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.modules[path]
	if m == nil {
		return
	}
	if m.refs--; m.refs > 0 {
		return
	}
	delete(h.modules, path)
	m.ctx.Finalize()
	m.ctx.Destroy()
}

func isCode(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}
