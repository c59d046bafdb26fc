package trailapi

import (
	"time"

	"github.com/coffer/coffer/internal/awsjson"
)

// epoch is a timestamp on the wire: seconds since the epoch as a JSON number.
type epoch = awsjson.Epoch

// ts returns nil for the zero time so that omitempty drops it.
func ts(t time.Time) *epoch { return awsjson.Time(t) }

// timeOf is the time an optional wire timestamp gives, zero when absent.
func timeOf(e *epoch) time.Time {
	if e == nil {
		return time.Time{}
	}
	return time.Time(*e)
}

// textTime is the string form GetTrailStatus gives some times in ("" for the zero time).
func textTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
