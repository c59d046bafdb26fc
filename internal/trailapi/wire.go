package trailapi

import (
	"strconv"
	"time"
)

// epoch is a timestamp on the wire: seconds since the epoch as a JSON number.
type epoch time.Time

// MarshalJSON writes seconds with millisecond precision.
func (e epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// UnmarshalJSON reads a JSON number of (possibly fractional) seconds.
func (e *epoch) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return errSerialization
	}
	sec := int64(f)
	*e = epoch(time.Unix(sec, int64((f-float64(sec))*1e9)).UTC())
	return nil
}

// ts returns nil for the zero time so that omitempty drops it.
func ts(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

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
