package pgdb

import (
	"math"
	"testing"
	"time"
)

// TestUnixNanos: the nanoseconds compare as their times do, also outside the years that
// UnixNano can represent.
func TestUnixNanos(t *testing.T) {
	t0 := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   time.Time
		want int64
	}{
		{"now", t0, t0.UnixNano()},
		{"zero time", time.Time{}, math.MinInt64},
		{"year 1000", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64},
		{"year 3000", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{"last representable", time.Unix(0, math.MaxInt64), math.MaxInt64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UnixNanos(tc.in); got != tc.want {
				t.Fatalf("UnixNanos(%v) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}
