package kms

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestFileRootKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kms", "root.key")
	k1, err := OpenFileRootKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("root key file: %v %v", fi, err)
	}
	ctx := context.Background()
	secret := []byte("key material 0123456789abcdef!!")
	sealed, err := k1.Seal(ctx, secret, sealAAD("key-a", 1))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) || !bytes.HasPrefix(sealed, []byte("cksm\x01")) {
		t.Fatal("sealed form leaks the material or lacks its header")
	}
	k2, err := OpenFileRootKey(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name   string
		key    *FileRootKey
		sealed []byte
		aad    []byte
		ok     bool
	}{
		{"reopened file", k2, sealed, sealAAD("key-a", 1), true},
		{"other key id", k2, sealed, sealAAD("key-b", 1), false},
		{"other version", k2, sealed, sealAAD("key-a", 2), false},
		{"bit flip", k2, flipped, sealAAD("key-a", 1), false},
		{"truncated", k2, sealed[:20], sealAAD("key-a", 1), false},
		{"unknown format version", k2, append([]byte("cksm\x02"), sealed[5:]...), sealAAD("key-a", 1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.key.Open(ctx, tc.sealed, tc.aad)
			if tc.ok != (err == nil) || (tc.ok && !bytes.Equal(got, secret)) {
				t.Fatalf("Open = %v", err)
			}
		})
	}
	t.Run("another root key", func(t *testing.T) {
		other, err := OpenFileRootKey(filepath.Join(dir, "other.key"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Open(ctx, sealed, sealAAD("key-a", 1)); err != ErrSealedCorrupt {
			t.Fatalf("Open under another root = %v", err)
		}
	})
	t.Run("wrong size file", func(t *testing.T) {
		p := filepath.Join(dir, "short.key")
		os.WriteFile(p, []byte("short"), 0o600)
		if _, err := OpenFileRootKey(p); err == nil {
			t.Fatal("a 5-byte root key was accepted")
		}
	})
}
