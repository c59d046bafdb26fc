//go:build cgo

package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ckms "github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm/softhsmtest"
	"github.com/coffer/coffer/internal/server"
	"github.com/miekg/pkcs11"
	bolt "go.etcd.io/bbolt"
)

// dropCanary removes the root-key canary of a stopped server's store, as in a store from
// before canaries.
func dropCanary(t *testing.T, dir string) {
	t.Helper()
	withDB(t, dir, func(tx *bolt.Tx) error { return tx.Bucket([]byte("kms.root")).Delete([]byte("canary")) })
}

// tokenHasKey reports whether cfg's token holds a key labelled label.
func tokenHasKey(t *testing.T, cfg pkcs11hsm.Config, label string) bool {
	t.Helper()
	p, sess := softhsmtest.Session(t, cfg)
	if err := p.FindObjectsInit(sess, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}); err != nil {
		t.Fatal(err)
	}
	found, _, err := p.FindObjects(sess, 1)
	p.FindObjectsFinal(sess)
	if err != nil {
		t.Fatal(err)
	}
	return len(found) > 0
}

// TestKMSRootHSMStartOnStoreWithoutCanary: a first start with --kms-root-pkcs11 on a store
// that holds keys but no root-key canary (written before canaries, its root key a file kept
// elsewhere) refuses before making anything: no wrapped root key file, no wrapping key on
// the token. The store still opens with its own root key afterwards.
func TestKMSRootHSMStartOnStoreWithoutCanary(t *testing.T) {
	h, cfg := rootHSM(t)
	dir := t.TempDir()
	e, stop := startStoppableWith(t, server.Config{Dir: dir})
	sealed := sealUnderRoot(t, e, "precanary")
	stop()
	dropCanary(t, dir)
	kept := filepath.Join(t.TempDir(), "root.key")
	if err := os.Rename(filepath.Join(dir, "kms", "root.key"), kept); err != nil {
		t.Fatal(err)
	}

	c := server.Config{Dir: dir, KMSRootHSM: h, Listen: "127.0.0.1:0", AccessKey: testAccessKey, SecretKey: testSecretKey}
	if srv, err := server.Start(c); err == nil {
		srv.Shutdown(context.Background())
		t.Fatal("the server started with a new root key over a store of keys")
	} else if want := "the stored keys are sealed under a root key, but " + filepath.Join(dir, "kms", ckms.WrappedRootKeyName); !strings.Contains(err.Error(), want) {
		t.Fatalf("start: %v\nwant it to say %q", err, want)
	}
	wantRootFiles(t, dir, false, false)
	if tokenHasKey(t, cfg, ckms.DefaultRootWrapLabel) {
		t.Fatal("the refused start made a wrapping key on the token")
	}

	e, stop = startStoppableWith(t, server.Config{Dir: dir, KMSRootKeyFile: kept})
	defer stop()
	sealed.check(t, e)
}

// TestKMSRootHSMWrapBesideWrapped: `coffer admin kms-root wrap` run where root.key.wrapped
// already exists (an interrupted run, or a file copied in) proves the plaintext root key
// against the stored keys before it removes anything: a plaintext key that the wrapped file
// also holds, but that does not open the stored keys, is refused and both files stay.
func TestKMSRootHSMWrapBesideWrapped(t *testing.T) {
	tests := []struct {
		name    string
		another bool // whether root.key and the wrapped file hold another key than the store's
		want    string
	}{
		{"the stored keys' root key", false, ""},
		{"another root key", true, "the root key does not open the stored keys"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := rootHSM(t)
			dir := t.TempDir()
			e, stop := startStoppableWith(t, server.Config{Dir: dir})
			sealed := sealUnderRoot(t, e, "beside")
			stop()
			plainPath := filepath.Join(dir, "kms", "root.key")
			wrappedPath := filepath.Join(dir, "kms", ckms.WrappedRootKeyName)
			key, err := os.ReadFile(plainPath)
			if err != nil {
				t.Fatal(err)
			}
			if tc.another {
				key = make([]byte, 32)
				rand.Read(key)
			}
			// The wrapped file of key, beside root.key holding key.
			spare := filepath.Join(t.TempDir(), "root.key")
			for _, p := range []string{spare, plainPath} {
				if err := os.WriteFile(p, key, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := ckms.WrapRootKeyFile(context.Background(), *h, spare, wrappedPath); err != nil {
				t.Fatal(err)
			}

			err = server.WrapKMSRoot(context.Background(), server.Config{Dir: dir, KMSRootHSM: h})
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("wrap: %v\nwant it to say %q", err, tc.want)
				}
				if now, _ := os.ReadFile(plainPath); !bytes.Equal(now, key) {
					t.Fatal("the refused wrap changed or removed root.key")
				}
				wantRootFiles(t, dir, true, true)
				return
			}
			if err != nil {
				t.Fatalf("wrap: %v", err)
			}
			wantRootFiles(t, dir, false, true)
			e, stop = startStoppableWith(t, server.Config{Dir: dir, KMSRootHSM: h})
			defer stop()
			sealed.check(t, e)
		})
	}
}

// TestKMSRootHSMUnwrapBesideShredding: unwrap refuses while an interrupted wrap's
// root.key.shredding, which may still hold the plaintext root key, is left to remove.
func TestKMSRootHSMUnwrapBesideShredding(t *testing.T) {
	h, _ := rootHSM(t)
	dir := t.TempDir()
	_, stop := startStoppableWith(t, server.Config{Dir: dir, KMSRootHSM: h})
	stop()
	if err := os.WriteFile(filepath.Join(dir, "kms", "root.key"+ckms.ShreddingSuffix), make([]byte, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	err := server.UnwrapKMSRoot(context.Background(), server.Config{Dir: dir, KMSRootHSM: h})
	if err == nil || !strings.Contains(err.Error(), "run `coffer admin kms-root wrap` again") {
		t.Fatalf("unwrap: %v, want a refusal naming the leftover", err)
	}
	wantRootFiles(t, dir, false, true)
}
