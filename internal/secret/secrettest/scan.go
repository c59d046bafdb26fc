// Package secrettest holds test helpers that check secrets stay where they belong.
package secrettest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ScanDir fails t if any file under dir contains any of secrets in any of its Forms — a gzip
// file also once decompressed — and fails if fewer than minFiles files were scanned (a scan of
// nothing proves nothing).
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
		Scan(t, path, data, secrets)
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil // not gzip after all: scanned as it is
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				t.Errorf("%s: %v", path, err)
			}
			Scan(t, path+" (decompressed)", plain, secrets)
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

// Scan fails t for each of secrets that data (found at where) holds in any of its Forms.
func Scan(t testing.TB, where string, data []byte, secrets map[string][]byte) {
	t.Helper()
	for name, s := range secrets {
		for _, f := range Forms(s) {
			if bytes.Contains(data, f) {
				t.Errorf("%s found in %s", name, where)
				break
			}
		}
	}
}

// Forms are the ways a secret could be written: raw, hex (either case) and base64 (standard
// and URL alphabets, padded or not).
func Forms(s []byte) [][]byte {
	h := hex.EncodeToString(s)
	return [][]byte{s, []byte(h), []byte(strings.ToUpper(h)),
		[]byte(base64.StdEncoding.EncodeToString(s)), []byte(base64.RawStdEncoding.EncodeToString(s)),
		[]byte(base64.URLEncoding.EncodeToString(s)), []byte(base64.RawURLEncoding.EncodeToString(s))}
}
