// Package secrettest holds test helpers that check secrets stay where they belong.
package secrettest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ScanDir fails t if any file under dir contains any of secrets, raw, in hex (either case) or
// in base64, and fails if fewer than minFiles files were scanned (a scan of nothing proves
// nothing).
func ScanDir(t testing.TB, dir string, secrets map[string][]byte, minFiles int) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for name, s := range secrets {
			forms := [][]byte{s, []byte(hex.EncodeToString(s)), []byte(strings.ToUpper(hex.EncodeToString(s))), []byte(base64.StdEncoding.EncodeToString(s))}
			for _, f := range forms {
				if bytes.Contains(data, f) {
					t.Errorf("%s found in %s", name, path)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < minFiles {
		t.Fatalf("scanned only %d files under %s", files, dir)
	}
}
