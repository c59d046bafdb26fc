//go:build unix

package object_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the test process has used so far (user and system), which a
// benchmark divides by its operations: unlike wall time it does not grow when other work
// shares the machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
