//go:build !linux

package audit

import (
	"errors"
	"os"
)

// fdatasync flushes f (an fsync where the system has no fdatasync).
func fdatasync(f *os.File) error { return f.Sync() }

// preallocate is not available here: the journal writes zeros instead.
func preallocate(*os.File, int64, int64) error { return errors.ErrUnsupported }
