package boltfile

import (
	"crypto/sha256"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

var layout = []string{"a", "b"}

// TestFormat opens files in each state the format record guards against.
func TestFormat(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(tx *bolt.Tx) error // on a file made by Open with layout
		want    string                  // "" opens
	}{
		{"as made", func(*bolt.Tx) error { return nil }, ""},
		{"from before the record", func(tx *bolt.Tx) error { return tx.DeleteBucket(formatBucket) }, ""},
		{"from before the record, a name damaged", func(tx *bolt.Tx) error {
			if err := tx.DeleteBucket(formatBucket); err != nil {
				return err
			}
			return rename(tx, "a", "q")
		}, `unknown top-level bucket "q"`},
		{"a name damaged", func(tx *bolt.Tx) error { return rename(tx, "b", "c") }, `top-level bucket "b" is missing`},
		{"format bucket damaged", func(tx *bolt.Tx) error { return rename(tx, "coffer", "coffes") }, `unknown top-level bucket "coffes"`},
		{"record changed", func(tx *bolt.Tx) error {
			v := append([]byte(nil), tx.Bucket(formatBucket).Get(formatKey)...)
			v[7] ^= 1
			return tx.Bucket(formatBucket).Put(formatKey, v)
		}, "fails its checksum"},
		{"record gone", func(tx *bolt.Tx) error { return tx.Bucket(formatBucket).Delete(formatKey) }, "format record is missing"},
		{"an unknown version", func(tx *bolt.Tx) error {
			rec, _ := encodeFormat(layout)
			body := rec[:len(rec)-sha256.Size]
			body[len(formatMagic)] = 9
			sum := sha256.Sum256(body) // a well-formed record of another version
			return tx.Bucket(formatBucket).Put(formatKey, append(body, sum[:]...))
		}, "format version is 9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "meta.db")
			db, err := Open(path, layout)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tc.prepare); err != nil {
				t.Fatal(err)
			}
			db.Close()
			db, err = Open(path, layout)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if findings := Verify(db, layout); len(findings) > 0 {
					t.Fatalf("Verify after open: %q", findings)
				}
				db.Close()
				return
			}
			if err == nil {
				db.Close()
				t.Fatalf("Open succeeded; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Open: %v; want the path and %q", err, tc.want)
			}
			if strings.Contains(tc.want, "version") == errors.Is(err, ErrDamaged) {
				t.Fatalf("Open: %v: damage and version are told apart", err)
			}
		})
	}
}

// TestFormatUpgrade: a layout that gains a bucket creates it and records it.
func TestFormatUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := Open(path, layout)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path, append(layout, "c"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if f := Verify(db, append(layout, "c")); len(f) > 0 {
		t.Fatalf("Verify: %q", f)
	}
}

func rename(tx *bolt.Tx, from, to string) error {
	src := tx.Bucket([]byte(from))
	dst, err := tx.CreateBucket([]byte(to))
	if err != nil {
		return err
	}
	if err := src.ForEach(func(k, v []byte) error { return dst.Put(k, v) }); err != nil {
		return err
	}
	return tx.DeleteBucket([]byte(from))
}
