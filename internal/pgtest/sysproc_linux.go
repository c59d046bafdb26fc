package pgtest

import (
	"os"
	"path/filepath"
	"syscall"
)

// sysProcAttr runs a PostgreSQL program as cred (nil: as we are) and has the kernel send it
// SIGQUIT, PostgreSQL's immediate shutdown, when the test process dies. Go sets the
// parent-death signal after switching credentials, which would clear it.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
}

// ownerLock is the file in a cluster directory that its test process holds an flock on for as
// long as it runs; the kernel releases it when the process dies, however it dies.
const ownerLock = "owner.lock"

// holdDir takes the owner lock of dir and returns the open file that holds it: the lock
// lasts while the file is open, so the caller keeps it (a collected *os.File closes itself).
func holdDir(dir string) (*os.File, error) {
	// The file is locked under another name and then renamed, so a sweep never finds it
	// unlocked in between.
	tmp := filepath.Join(dir, ownerLock+".new")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, ownerLock)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// sweepStale removes the cluster directories in parent of test processes that died without Stop (a
// panic, a kill): their owner lock is free. Their servers went with them (parent-death
// signal); what is left is files.
func sweepStale(parent string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, dirPattern))
	for _, d := range dirs {
		f, err := os.Open(filepath.Join(d, ownerLock))
		if err != nil {
			continue // being set up, or not ours
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.RemoveAll(d)
		}
		f.Close()
	}
}
