// Package iamrec is the stored form of package iam's records, shared by every backend that
// keeps them as opaque values (boltiam under bbolt keys, pgiam in bytea columns), so that a
// record means the same whatever store holds it and moves between stores unchanged.
//
// A record is the version byte V1 followed by the JSON of the iam type. Fields added later
// (the Tags of users, roles and policies) are optional: a record written before them reads as
// having none. A reader rejects versions it does not know. Sealed secrets are kept as the
// bytes the caller sealed, never opened.
package iamrec

import (
	"encoding/json"
	"fmt"

	"github.com/coffer/coffer/internal/iam"
)

// V1 is the version byte every record starts with.
const V1 = 1

// Record is the set of iam types a store keeps as records.
type Record interface {
	iam.Account | iam.User | iam.Role | iam.AccessKey | iam.InlinePolicy | iam.ManagedPolicy | iam.Session
}

// Encode returns the stored form of v.
func Encode[T Record](v T) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("iamrec: %w", err)
	}
	return append([]byte{V1}, data...), nil
}

// Decode reads a record written by Encode into v; iam.ErrDamaged if it is not one.
func Decode[T Record](data []byte, v *T) error {
	if len(data) < 1 || data[0] != V1 {
		return fmt.Errorf("iamrec: %w: unknown version", iam.ErrDamaged)
	}
	if err := json.Unmarshal(data[1:], v); err != nil {
		return fmt.Errorf("iamrec: %w: %v", iam.ErrDamaged, err)
	}
	return nil
}
