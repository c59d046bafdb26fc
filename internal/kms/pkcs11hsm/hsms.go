//go:build cgo

package pkcs11hsm

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/coffer/coffer/internal/kms"
	"github.com/miekg/pkcs11"
)

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
	// initialised says that this set initialised the library, and so finalises it. A library
	// is initialised once per process: one another set (--hsm beside --kms-root-pkcs11) or
	// the process initialised is left initialised, or its tokens would lose every session.
	initialised bool
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

// Connect logs in to the named HSM's token as the crypto user, with a pool of sessions on it.
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
	err := p.Initialize()
	if err != nil && !isCode(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		p.Destroy()
		return nil, fmt.Errorf("pkcs11hsm: initialising %s: %w: %w", path, kms.ErrHSMUnreachable, err)
	}
	h.modules[path] = &module{ctx: p, refs: 1, initialised: err == nil}
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
	if m.initialised {
		m.ctx.Finalize()
	}
	m.ctx.Destroy()
}

func isCode(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}
