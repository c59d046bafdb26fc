package pgtest

import "syscall"

// sysProcAttr runs a PostgreSQL program as cred (nil: as we are) and has the kernel send it
// SIGQUIT, PostgreSQL's immediate shutdown, when the test process dies. Go sets the
// parent-death signal after switching credentials, which would clear it.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
}
