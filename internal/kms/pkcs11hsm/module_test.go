//go:build cgo

package pkcs11hsm_test

import (
	"context"
	"testing"

	"github.com/coffer/coffer/internal/kms/pkcs11hsm"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm/softhsmtest"
)

// TestModuleSharedBetweenHSMs has two sets of HSMs in one process use one PKCS#11 module, as
// a server does with --hsm (custom key stores) and --kms-root-pkcs11 (the root key) on one
// HSM. A PKCS#11 module is initialised once per process, so the set that found it already
// initialised must not finalise it when its last token closes: that would end the sessions
// of the other set's tokens, for good.
func TestModuleSharedBetweenHSMs(t *testing.T) {
	cfg := softhsmtest.Token(t, "cluster-sharedshared", "shared")
	ctx := context.Background()
	store := connect(t, cfg)
	rootCfg := cfg
	rootCfg.Name = pkcs11hsm.RootName
	rootHSMs, err := pkcs11hsm.New([]pkcs11hsm.Config{rootCfg})
	if err != nil {
		t.Fatal(err)
	}
	root, err := rootHSMs.Connect(ctx, rootCfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	if err := root.Close(); err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(ctx, store, 1); err != nil {
		t.Fatalf("the store's token after the root's set closed its own: %v", err)
	}
}
