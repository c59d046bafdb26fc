package audit

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data, and its metadata only where reading the data needs it.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// preallocate gives f disk blocks for [off, off+n), reading as zeros, and extends its size.
func preallocate(f *os.File, off, n int64) error {
	for {
		err := syscall.Fallocate(int(f.Fd()), 0, off, n)
		if err != syscall.EINTR {
			return err
		}
	}
}
