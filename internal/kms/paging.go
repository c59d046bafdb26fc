package kms

import "strconv"

// pageOf pages an in-memory list with a numeric offset marker.
func pageOf[T any](all []T, marker string, limit int) ([]T, string, error) {
	start := 0
	if marker != "" {
		n, err := strconv.Atoi(marker)
		if err != nil || n < 0 || n > len(all) {
			return nil, "", errf(ErrInvalidMarker, "Invalid marker")
		}
		start = n
	}
	end := start + limit
	if end >= len(all) {
		return append([]T(nil), all[start:]...), "", nil
	}
	return append([]T(nil), all[start:end]...), strconv.Itoa(end), nil
}
