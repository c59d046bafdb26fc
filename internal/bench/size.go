package bench

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// sizeUnits maps a size suffix to its multiplier. Binary (KiB) and decimal (KB) units are both
// accepted because users copy sizes from tools that use either.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	// Longest suffixes first so that "KiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
	{"B", 1},
}

// ParseSize reads a byte count written as "<n>[B|KiB|MiB|GiB|KB|MB|GB]", for example "4KiB" or
// "64MiB". A bare number is bytes; units are matched without regard to case.
func ParseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, errors.New("empty size")
	}
	num, mult := in, int64(1)
	for _, u := range sizeUnits {
		if len(in) > len(u.suffix) && strings.EqualFold(in[len(in)-len(u.suffix):], u.suffix) {
			num, mult = strings.TrimSpace(in[:len(in)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q (want e.g. 4KiB, 1MiB, 64MiB)", s)
	}
	if n > 0 && mult > (1<<62)/n {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// FormatSize writes n with the largest binary unit that divides it exactly, so that sizes
// given as 4KiB print back as 4KiB.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10) + "B"
}
