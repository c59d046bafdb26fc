package boltfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The format record lives in the top-level bucket "coffer" under the key "format":
//
//	"CFMT" | version (1 byte) | JSON {"buckets": [top-level bucket names, sorted]} | SHA-256 of all before
//
// It is written when a new file is made, and when a file from before the record existed opens
// with nothing but known top-level buckets. On every open the record must authenticate, every
// bucket it names must exist and no other top-level bucket may; a name the software expects
// but the record lacks (a newer version adding a store) is created and added.
var (
	formatBucket = []byte("coffer")
	formatKey    = []byte("format")
	formatMagic  = []byte("CFMT")
)

// formatVersion is the layout version this code writes and reads.
const formatVersion = 1

type formatBody struct {
	Buckets []string `json:"buckets"`
}

func encodeFormat(buckets []string) ([]byte, error) {
	body, err := json.Marshal(formatBody{Buckets: buckets})
	if err != nil {
		return nil, err
	}
	rec := append(append(slices.Clone(formatMagic), formatVersion), body...)
	sum := sha256.Sum256(rec)
	return append(rec, sum[:]...), nil
}

func decodeFormat(rec []byte) ([]string, error) {
	head := len(formatMagic) + 1
	if len(rec) < head+sha256.Size || !bytes.Equal(rec[:len(formatMagic)], formatMagic) {
		return nil, fmt.Errorf("%w: the format record is not one", ErrDamaged)
	}
	body, sum := rec[:len(rec)-sha256.Size], rec[len(rec)-sha256.Size:]
	if want := sha256.Sum256(body); !bytes.Equal(sum, want[:]) {
		return nil, fmt.Errorf("%w: the format record fails its checksum", ErrDamaged)
	}
	if v := rec[len(formatMagic)]; v != formatVersion {
		return nil, fmt.Errorf("the format version is %d; this coffer reads version %d (use the release that wrote it)", v, formatVersion)
	}
	var f formatBody
	if err := json.Unmarshal(body[head:], &f); err != nil {
		return nil, fmt.Errorf("%w: the format record: %v", ErrDamaged, err)
	}
	return f.Buckets, nil
}

// plan is what opening a file must add: top-level buckets to create and, if record is not
// nil, a format record to write.
type plan struct {
	create []string
	record []byte
}

// formatPlan checks the file's top-level buckets against its format record and the expected
// names, and says what to create. It changes nothing.
func formatPlan(tx *bolt.Tx, expected []string) (plan, error) {
	var present []string
	err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if !bytes.Equal(name, formatBucket) {
			present = append(present, string(name))
		}
		return nil
	})
	if err != nil {
		return plan{}, err
	}
	var recorded []string
	switch fb := tx.Bucket(formatBucket); {
	case fb != nil:
		rec := fb.Get(formatKey)
		if rec == nil {
			return plan{}, fmt.Errorf("%w: the format record is missing", ErrDamaged)
		}
		if recorded, err = decodeFormat(rec); err != nil {
			return plan{}, err
		}
		for _, name := range recorded {
			if !slices.Contains(present, name) {
				return plan{}, fmt.Errorf("%w: top-level bucket %q is missing (renamed or lost by damage; it is not recreated empty)", ErrDamaged, name)
			}
		}
	case len(present) > 0:
		// A file from before the format record: it may hold only names this code knows.
		recorded = present
	}
	for _, name := range present {
		if !slices.Contains(recorded, name) || !slices.Contains(expected, name) {
			return plan{}, fmt.Errorf("%w: unknown top-level bucket %q (a damaged name, or a file that is not Coffer's)", ErrDamaged, name)
		}
	}
	var p plan
	for _, name := range expected {
		if !slices.Contains(present, name) {
			p.create = append(p.create, name)
		}
	}
	if tx.Bucket(formatBucket) == nil || len(p.create) > 0 {
		all := slices.Sorted(slices.Values(expected))
		if p.record, err = encodeFormat(all); err != nil {
			return plan{}, err
		}
	}
	return p, nil
}

// settleFormat checks the format and creates what the plan says.
func settleFormat(tx *bolt.Tx, expected []string) error {
	p, err := formatPlan(tx, expected)
	if err != nil {
		return err
	}
	for _, name := range p.create {
		if _, err := tx.CreateBucket([]byte(name)); err != nil {
			return fmt.Errorf("create top-level bucket %q: %w", name, err)
		}
	}
	if p.record == nil {
		return nil
	}
	fb, err := tx.CreateBucketIfNotExists(formatBucket)
	if err != nil {
		return err
	}
	return fb.Put(formatKey, p.record)
}
