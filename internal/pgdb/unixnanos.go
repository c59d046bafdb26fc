package pgdb

import (
	"math"
	"time"
)

// UnixNanos returns t as nanoseconds since 1970 for a bigint column that must compare as the
// times do: the full precision of time.Time (timestamptz keeps microseconds), with times
// outside the years UnixNano can represent clamped to its ends, still in order.
func UnixNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}
