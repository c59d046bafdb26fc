//go:build cgo

package pkcs11hsm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm/softhsmtest"
	"github.com/miekg/pkcs11"
)

// TestModuleSharedBetweenHSMs has two sets of HSMs of one Modules use one PKCS#11 module, as
// a server does with --hsm (custom key stores) and --kms-root-pkcs11 (the root key) on one
// HSM. A module is initialised once per process and finalising it ends every session on it:
// whichever set closes its token first, the other's token must keep working, and the module
// must be finalised once the last token closes.
func TestModuleSharedBetweenHSMs(t *testing.T) {
	tests := []struct {
		name             string
		initialiserFirst bool // whether the set that initialised the module closes first
	}{
		{"initialiser closes first", true},
		{"the other closes first", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := softhsmtest.Token(t, "cluster-sharedshared", "shared")
			ctx := context.Background()
			mods := pkcs11hsm.NewModules()
			storeTok := connectVia(t, mods, cfg)
			if err := storeTok.GenerateKey(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			rootCfg := cfg
			rootCfg.Name = pkcs11hsm.RootName
			rootTok := connectVia(t, mods, rootCfg)

			first, second := storeTok, rootTok
			if !tc.initialiserFirst {
				first, second = rootTok, storeTok
			}
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			if !initialised(t) {
				t.Fatal("the module was finalised while a token was open")
			}
			if err := roundTrip(ctx, second, 1); err != nil {
				t.Fatalf("the token left open after the other closed: %v", err)
			}
			if err := second.Close(); err != nil {
				t.Fatal(err)
			}
			if initialised(t) {
				t.Fatal("the module is still initialised after its last token closed")
			}
		})
	}
}

// connectVia connects to cfg's token through a set of HSMs of mods, until the test ends.
func connectVia(t *testing.T, mods *pkcs11hsm.Modules, cfg pkcs11hsm.Config) kms.HSMToken {
	t.Helper()
	hsms, err := mods.New([]pkcs11hsm.Config{cfg})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := hsms.Connect(context.Background(), cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tok.Close() })
	return tok
}

// initialised reports whether SoftHSM2 is initialised in this process, leaving it as it was.
func initialised(t *testing.T) bool {
	t.Helper()
	p := pkcs11.New(softhsmtest.Module)
	defer p.Destroy()
	err := p.Initialize()
	if err == nil {
		p.Finalize()
		return false
	}
	if e := (pkcs11.Error)(0); errors.As(err, &e) && e == pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
		return true
	}
	t.Fatal(err)
	return false
}
