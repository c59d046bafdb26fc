package fsblob

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer/coffer/internal/blob"
)

// TestLinkEEXIST covers the two ways link(2) can answer EEXIST: the name is another writer's
// (ErrExists), or it is already our file, as when NFS retries a LINK whose reply was lost (success).
func TestLinkEEXIST(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ours, theirs, dst := mk("ours"), mk("theirs"), filepath.Join(dir, "dst")
	if err := link(theirs, dst); err != nil {
		t.Fatalf("first link: %v", err)
	}
	tests := []struct {
		name string
		tmp  string
		want error
	}{
		{"other-writers-file", ours, blob.ErrExists},
		{"our-own-link-again", theirs, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := link(tc.tmp, dst); !errors.Is(err, tc.want) {
				t.Fatalf("link = %v, want %v", err, tc.want)
			}
			if b, _ := os.ReadFile(dst); string(b) != "theirs" {
				t.Fatalf("dst holds %q, want the first writer's", b)
			}
		})
	}
}
