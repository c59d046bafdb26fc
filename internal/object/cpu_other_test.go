//go:build !unix

package object_test

import "time"

// processCPU is not measured here; benchmarks then report 0 CPU per operation.
func processCPU() time.Duration { return 0 }
