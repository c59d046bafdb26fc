package boltfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Compact rewrites the database at path with only its live pages, so that the free pages,
// which keep the bytes of records changed or deleted since their pages were last reused, are
// gone from it (internal/kms/SPEC.md §8.5). The file is copied into path+".compact", fsynced,
// renamed over path and the directory fsynced: a crash leaves either file whole. It holds the
// file's lock throughout, so it fails when a server has the file open. It returns the sizes
// before and after.
func Compact(path string) (before, after int64, err error) {
	src, err := open(path, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return 0, 0, fmt.Errorf("%w (is a server running on it?)", err)
	}
	defer src.Close()
	if findings := walk(src); len(findings) > 0 {
		return 0, 0, damaged(path, findings)
	}
	if st, err := os.Stat(path); err == nil {
		before = st.Size()
	}
	tmp := path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, 0, err // a copy left by an interrupted compaction, never the live file
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return 0, 0, err
	}
	// Every commit into dst is fsynced by bbolt; 64 MiB per transaction bounds its memory.
	err = bolt.Compact(dst, src, 64<<20)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("compacting %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, 0, err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return 0, 0, err
		}
	}
	if st, err := os.Stat(path); err == nil {
		after = st.Size()
	}
	return before, after, nil
}
