//go:build !linux

package pgtest

import (
	"os"
	"syscall"
)

// sysProcAttr runs a PostgreSQL program as cred (nil: as we are). Outside Linux there is no
// parent-death signal: a test process that dies without calling Stop leaves its server.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred}
}

// holdDir does nothing outside Linux.
func holdDir(string) (*os.File, error) { return nil, nil }

// sweepStale does nothing outside Linux: directories of crashed runs stay.
func sweepStale(string) {}
