package kms_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/coffer/coffer/internal/kms"
)

func openTestShredder(t *testing.T, dir string) *kms.FileShredder {
	t.Helper()
	root, err := kms.OpenFileRootKey(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	sh, err := kms.OpenFileShredder(filepath.Join(dir, "shred.slots"), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sh.Close() })
	return sh
}

// TestFileShredderSlots: slots are created in a 0600 file, give their key back after a
// reopen, give nothing once destroyed, and are reused, lowest first after a reopen.
func TestFileShredderSlots(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sh := openTestShredder(t, dir)
	keys := map[uint32][]byte{}
	for range 4 {
		slot, key, err := sh.New(ctx)
		if err != nil {
			t.Fatal(err)
		}
		keys[slot] = key
	}
	if st, err := os.Stat(filepath.Join(dir, "shred.slots")); err != nil || st.Mode().Perm() != 0o600 || st.Size() != 16+4*128 {
		t.Fatalf("slot file: %v %v", st, err)
	}
	for _, slot := range []uint32{3, 1} {
		if err := sh.Destroy(ctx, slot); err != nil {
			t.Fatal(err)
		}
	}
	sh.Close()
	sh = openTestShredder(t, dir)
	if used, _ := sh.Used(ctx); !slices.Equal(used, []uint32{2, 4}) {
		t.Fatalf("slots in use after a reopen: %v, want [2 4]", used)
	}
	for slot, want := range keys {
		got, err := sh.Key(ctx, slot)
		switch {
		case slot == 1 || slot == 3:
			if !errors.Is(err, kms.ErrShredded) || got != nil {
				t.Fatalf("destroyed slot %d: %x, %v", slot, got, err)
			}
		case err != nil || string(got) != string(want):
			t.Fatalf("slot %d after a reopen: %v", slot, err)
		}
	}
	for _, want := range []uint32{1, 3, 5} {
		if slot, _, err := sh.New(ctx); err != nil || slot != want {
			t.Fatalf("new slot %d, %v; want %d", slot, err, want)
		}
	}
}

// TestFileShredderRefusesOtherFiles: a file that is not a version-1 slot file is refused.
func TestFileShredderRefusesOtherFiles(t *testing.T) {
	cases := []struct {
		name string
		head []byte
	}{
		{"empty", nil},
		{"short header", []byte("cksl\x01")},
		{"another magic", []byte("cksm\x01\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00")},
		{"another version", []byte("cksl\x02\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00")},
		{"another slot length", []byte("cksl\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			root, err := kms.OpenFileRootKey(filepath.Join(dir, "root.key"))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "shred.slots")
			if err := os.WriteFile(path, tc.head, 0o600); err != nil {
				t.Fatal(err)
			}
			if sh, err := kms.OpenFileShredder(path, root); err == nil {
				sh.Close()
				t.Fatal("opened")
			}
		})
	}
}
