package kmsrec

import (
	"encoding/binary"
	"fmt"
	"time"
)

// EncodeFormat returns the stored form of the record format UpgradeRecords last brought a
// store to: 4 bytes, big-endian.
func EncodeFormat(format int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(format)) }

// DecodeFormat decodes a stored record format; ok false if v is not one, which counts as no
// format remembered (forgetting it only costs a reading of the records).
func DecodeFormat(v []byte) (format int, ok bool) {
	if len(v) != 4 {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(v)), true
}

// EncodeTrackingStart returns the stored form of when a store began tracking key usage:
// RFC 3339 in UTC, to the second.
func EncodeTrackingStart(t time.Time) []byte {
	return []byte(t.UTC().Truncate(time.Second).Format(time.RFC3339))
}

// DecodeTrackingStart decodes a stored tracking start.
func DecodeTrackingStart(v []byte) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, string(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("kmsrec: usage tracking start %q: %w", v, err)
	}
	return t, nil
}
