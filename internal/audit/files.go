package audit

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeFileDurably writes data to path so that after a crash path holds either nothing (or its
// former content) or all of data: a temporary file beside it is written and fsynced, renamed
// over path, and the directory fsynced. Missing parent directories are made, and their
// parents fsynced, so the new entries outlive a crash too.
func writeFileDurably(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := mkdirDurably(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

// mkdirDurably makes dir and its missing parents, fsyncing the parent of each directory made.
func mkdirDurably(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirDurably(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	return syncDir(parent)
}

// syncDir fsyncs a directory, making its entries (new, renamed, removed files) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
