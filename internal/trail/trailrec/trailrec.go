// Package trailrec is the stored form of a trail.Trail, shared by every backend that keeps
// trails as opaque values (bolttrail under bbolt keys, pgtrail in bytea columns), so that a
// record means the same whatever store holds it and moves between stores unchanged.
//
// A record is the version byte V1 followed by the JSON of the Trail. A reader rejects
// versions it does not know. Fields added since are left out of the JSON when empty
// (Trail.Deliveries, of nodes sharing the store), so a record of one node's trail is what it
// was before them, and a reader ignores what it does not know: they need no new version.
package trailrec

import (
	"encoding/json"
	"fmt"

	"github.com/coffer/coffer/internal/trail"
)

// V1 is the version byte every record starts with.
const V1 = 1

// Encode returns the stored form of t.
func Encode(t *trail.Trail) ([]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("trailrec: %w", err)
	}
	return append([]byte{V1}, b...), nil
}

// Decode reads a record written by Encode; trail.ErrDamaged if it is not one.
func Decode(v []byte) (trail.Trail, error) {
	var t trail.Trail
	if len(v) == 0 || v[0] != V1 {
		return t, fmt.Errorf("trailrec: %w: unknown version", trail.ErrDamaged)
	}
	if err := json.Unmarshal(v[1:], &t); err != nil {
		return t, fmt.Errorf("trailrec: %w: %v", trail.ErrDamaged, err)
	}
	return t, nil
}
