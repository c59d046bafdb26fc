//go:build !cgo

package pkcs11hsm

import (
	"context"
	"errors"
	"fmt"

	"github.com/coffer/coffer/internal/kms"
)

// errNoCgo is the answer of a binary built without cgo, which cannot load a PKCS#11 module.
var errNoCgo = errors.New("pkcs11hsm: this coffer was built without cgo (CGO_ENABLED=0) and cannot load PKCS#11 modules")

// HSMs is the set of configured HSMs; without cgo there can be none.
type HSMs struct{}

var _ kms.HSMs = (*HSMs)(nil)

// Modules is the registry of loaded PKCS#11 modules; without cgo there can be none.
type Modules struct{}

// NewModules returns an empty registry of modules.
func NewModules() *Modules { return &Modules{} }

// New refuses any HSM: a binary built without cgo cannot load a PKCS#11 module.
func (*Modules) New(cfgs []Config) (*HSMs, error) { return New(cfgs) }

// New refuses any HSM: a binary built without cgo cannot load a PKCS#11 module.
func New(cfgs []Config) (*HSMs, error) {
	if len(cfgs) > 0 {
		return nil, errNoCgo
	}
	return &HSMs{}, nil
}

// Has reports false: no HSM is configured.
func (*HSMs) Has(string) bool { return false }

// Connect fails: no HSM is configured.
func (*HSMs) Connect(_ context.Context, name string) (kms.HSMToken, error) {
	return nil, fmt.Errorf("pkcs11hsm: %s: %w: %w", name, kms.ErrHSMNotFound, errNoCgo)
}
