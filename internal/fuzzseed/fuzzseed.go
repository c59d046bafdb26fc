// Package fuzzseed is for fuzz targets whose checked-in seed corpus is part of the test: a
// target run by `go test` (without -fuzz) runs only its seeds, so a missing corpus would make
// it pass while checking nothing.
package fuzzseed

import (
	"os"
	"path/filepath"
	"testing"
)

// Require fails f unless testdata/fuzz/<f's name> holds at least one seed.
func Require(f *testing.F) {
	f.Helper()
	dir := filepath.Join("testdata", "fuzz", f.Name())
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		f.Fatalf("no seed corpus in %s (err %v)", dir, err)
	}
}
