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

// Modules is the registry of the PKCS#11 modules that the HSM sets made by its New share,
// with the tokens open on each. A module's C_Initialize is process-wide and its C_Finalize
// ends every session of the process on it, so sets that may use one module (the server's
// --hsm set and its --kms-root-pkcs11 set) must come from one Modules: it initialises a
// module at its first token and finalises it when the last token of any of its sets closes,
// whichever closes first. The owner makes one per process (cmd/coffer does) and passes it in;
// a module that something outside it initialised (another Modules, a test's own session) is
// used and left initialised, never finalised.
type Modules struct {
	mu     sync.Mutex // guards loaded
	loaded map[string]*module
}

// NewModules returns an empty registry of modules.
func NewModules() *Modules {
	return &Modules{loaded: make(map[string]*module)}
}

// HSMs is a set of configured HSMs, whose modules are loaded through a Modules.
type HSMs struct {
	configs map[string]Config
	modules *Modules
}

var _ kms.HSMs = (*HSMs)(nil)

// module is one loaded and initialised PKCS#11 library.
type module struct {
	ctx  *pkcs11.Ctx
	refs int // tokens open on it, of every set
	// initialised says that this registry initialised the library, and so finalises it.
	initialised bool
}

// New returns the HSMs of cfgs with a registry of modules of their own: for a process with
// one set of HSMs, or sets that share no module.
func New(cfgs []Config) (*HSMs, error) {
	return NewModules().New(cfgs)
}

// New returns the HSMs of cfgs; their modules are loaded at the first Connect, once for every
// set of r.
func (r *Modules) New(cfgs []Config) (*HSMs, error) {
	h := &HSMs{configs: make(map[string]Config), modules: r}
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
	p, err := h.modules.load(c.Module)
	if err != nil {
		return nil, err
	}
	t, err := openToken(p, c)
	if err != nil {
		h.modules.unload(c.Module)
		return nil, err
	}
	t.release = func() { h.modules.unload(c.Module) }
	return t, nil
}

// load returns the module at path, loading and initialising it at its first token.
func (r *Modules) load(path string) (*pkcs11.Ctx, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.loaded[path]; m != nil {
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
	r.loaded[path] = &module{ctx: p, refs: 1, initialised: err == nil}
	return p, nil
}

// unload gives back a token's hold on the module at path, finalising the module (when this
// registry initialised it) once no token of any set holds it.
func (r *Modules) unload(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.loaded[path]
	if m == nil {
		return
	}
	if m.refs--; m.refs > 0 {
		return
	}
	delete(r.loaded, path)
	if m.initialised {
		m.ctx.Finalize()
	}
	m.ctx.Destroy()
}

func isCode(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}
