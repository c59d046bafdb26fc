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
