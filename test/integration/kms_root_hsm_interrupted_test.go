//go:build cgo

package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ckms "github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/server"
)

// TestKMSRootHSMWrapInterrupted: `coffer admin kms-root wrap` overwrites and removes the
// plaintext root key only after taking its name away (kms/root.key.shredding), so a crash
// during the overwrite never leaves a half-overwritten root.key that a second run would
// take for another root key. What a crash leaves is finished by running wrap again, and a
// start with the HSM refuses until then, since the file may still hold the plaintext key.
func TestKMSRootHSMWrapInterrupted(t *testing.T) {
	h, _ := rootHSM(t)
	dir := t.TempDir()
	e, stop := startStoppableWith(t, server.Config{Dir: dir})
	sealed := sealUnderRoot(t, e, "interrupted")
	stop()
	plainPath := filepath.Join(dir, "kms", "root.key")
	plain, err := os.ReadFile(plainPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := server.WrapKMSRoot(context.Background(), server.Config{Dir: dir, KMSRootHSM: h}); err != nil {
		t.Fatalf("wrap: %v", err)
	}
	// The state of a crash after the name was taken away, before the overwrite.
	leftover := plainPath + ckms.ShreddingSuffix
	if err := os.WriteFile(leftover, plain, 0o600); err != nil {
		t.Fatal(err)
	}

	c := server.Config{Dir: dir, KMSRootHSM: h, Listen: "127.0.0.1:0", AccessKey: testAccessKey, SecretKey: testSecretKey}
	if srv, err := server.Start(c); err == nil {
		srv.Shutdown(context.Background())
		t.Fatal("the server started beside a plaintext root key left by an interrupted wrap")
	} else if !strings.Contains(err.Error(), "run `coffer admin kms-root wrap` again") {
		t.Fatalf("start: %v\nwant it to say how to finish the wrap", err)
	}
	if err := server.WrapKMSRoot(context.Background(), server.Config{Dir: dir, KMSRootHSM: h}); err != nil {
		t.Fatalf("wrap run again: %v", err)
	}
	if _, err := os.Stat(leftover); err == nil {
		t.Fatal("the second run left the plaintext root key on disk")
	}
	wantRootFiles(t, dir, false, true)
	e, stop = startStoppableWith(t, server.Config{Dir: dir, KMSRootHSM: h})
	defer stop()
	sealed.check(t, e)
}

// TestKMSRootHSMUnwrapInterrupted: a crash while `coffer admin kms-root unwrap` writes the
// plaintext root key leaves a short root.key beside the wrapped file. Running unwrap again
// replaces it (a file of other than 32 bytes is no root key) and finishes; a root.key of 32
// bytes that is another key is never replaced.
func TestKMSRootHSMUnwrapInterrupted(t *testing.T) {
	h, _ := rootHSM(t)
	dir := t.TempDir()
	e, stop := startStoppableWith(t, server.Config{Dir: dir, KMSRootHSM: h})
	sealed := sealUnderRoot(t, e, "unwrap-interrupted")
	stop()
	plainPath := filepath.Join(dir, "kms", "root.key")

	if err := os.WriteFile(plainPath, make([]byte, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	err := server.UnwrapKMSRoot(context.Background(), server.Config{Dir: dir, KMSRootHSM: h})
	if err == nil || !strings.Contains(err.Error(), "holds another root key") {
		t.Fatalf("unwrap beside another root key: %v, want a refusal", err)
	}
	// What a crash after a partial write leaves.
	if err := os.WriteFile(plainPath, []byte("torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := server.UnwrapKMSRoot(context.Background(), server.Config{Dir: dir, KMSRootHSM: h}); err != nil {
		t.Fatalf("unwrap run again after a torn write: %v", err)
	}
	wantRootFiles(t, dir, true, false)
	e, stop = startStoppableWith(t, server.Config{Dir: dir})
	defer stop()
	sealed.check(t, e)
}

// TestKMSRootHSMWrappedFileTorn: a crash while the wrapped root key file is written (at a
// first start with --kms-root-pkcs11, or by `coffer admin kms-root wrap`) leaves it short. A
// short file holds no key, so the next first start, or wrap run again with the plaintext key
// still there, writes it anew instead of failing on it for good.
func TestKMSRootHSMWrappedFileTorn(t *testing.T) {
	torn := []byte("ckrw\x01") // magic and version: the header's first bytes
	t.Run("first start", func(t *testing.T) {
		h, _ := rootHSM(t)
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "kms"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "kms", ckms.WrappedRootKeyName), torn, 0o600); err != nil {
			t.Fatal(err)
		}
		e, stop := startStoppableWith(t, server.Config{Dir: dir, KMSRootHSM: h})
		sealed := sealUnderRoot(t, e, "torn-start")
		stop()
		e, stop = startStoppableWith(t, server.Config{Dir: dir, KMSRootHSM: h})
		defer stop()
		sealed.check(t, e)
	})
	t.Run("wrap run again", func(t *testing.T) {
		h, _ := rootHSM(t)
		dir := t.TempDir()
		e, stop := startStoppableWith(t, server.Config{Dir: dir})
		sealed := sealUnderRoot(t, e, "torn-wrap")
		stop()
		if err := os.WriteFile(filepath.Join(dir, "kms", ckms.WrappedRootKeyName), torn, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := server.WrapKMSRoot(context.Background(), server.Config{Dir: dir, KMSRootHSM: h}); err != nil {
			t.Fatalf("wrap beside a torn wrapped file: %v", err)
		}
		wantRootFiles(t, dir, false, true)
		e, stop = startStoppableWith(t, server.Config{Dir: dir, KMSRootHSM: h})
		defer stop()
		sealed.check(t, e)
	})
}
