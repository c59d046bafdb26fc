// Package boltfile opens the one bbolt file (meta.db) that Coffer's embedded stores share, and
// keeps a damaged file from turning into a crash, a silently emptied store or a lost object.
//
// bbolt reads its pages through mmap and trusts them: a flipped byte in a page header can make
// it read outside the mapping (a SIGSEGV that kills the process) or walk garbage. So:
//
//   - Open walks every page of the file (every key and value of every bucket) and runs bbolt's
//     own consistency check before anyone uses the file, with faults turned into errors
//     (see Safely), and refuses a file that fails either.
//   - The file carries a format record (format.go): the format version and the top-level
//     buckets it must hold, under a SHA-256 checksum. A top-level bucket that is missing or
//     unknown (a damaged name) refuses the start instead of being recreated empty.
//
// Safely is applied at open, to the consistency checks (Verify) and, by the server, around
// every request and background job; it is per goroutine (runtime/debug.SetPanicOnFault).
package boltfile

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrDamaged classifies a file whose pages or format record are damaged, or that bbolt could
// not read without faulting.
var ErrDamaged = errors.New("boltfile: damaged")

// Open opens (creating if needed, mode 0600) the bbolt file at path for reading and writing,
// checks it whole, and checks or writes its format record for the given top-level buckets (the
// names every user of the file keeps). Commits are fsynced; a second process that finds the
// file locked gets an error after a second instead of waiting for ever.
func Open(path string, buckets []string) (*bolt.DB, error) {
	db, err := open(path, &bolt.Options{
		Timeout:      time.Second,
		FreelistType: bolt.FreelistMapType, // faster than the array freelist on large files
	})
	if err != nil {
		return nil, err
	}
	if findings := walk(db); len(findings) > 0 {
		db.Close()
		return nil, damaged(path, findings)
	}
	if err := Safely(func() error { return db.Update(func(tx *bolt.Tx) error { return settleFormat(tx, buckets) }) }); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w; restore it from a backup (`coffer admin check --data DIR` lists what is wrong)", path, err)
	}
	return db, nil
}

// CreateBuckets creates those of the named top-level buckets that db lacks: a store's own
// buckets, when the store is made on a db (Open has checked the file's format record).
func CreateBuckets(db *bolt.DB, names []string) error {
	return db.Update(func(tx *bolt.Tx) error {
		for _, name := range names {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	})
}

// OpenReadOnly opens an existing bbolt file without changing it, for inspection.
func OpenReadOnly(path string) (*bolt.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	return open(path, &bolt.Options{ReadOnly: true, Timeout: time.Second})
}

func open(path string, opt *bolt.Options) (*bolt.DB, error) {
	var db *bolt.DB
	err := Safely(func() error {
		var err error
		db, err = bolt.Open(path, 0o600, opt)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Verify checks the whole file: every page reachable through the buckets, bbolt's consistency
// check, and the format record against buckets. It returns one line per finding and changes
// nothing, so it serves a read-only DB.
func Verify(db *bolt.DB, buckets []string) []string {
	findings := walk(db)
	if len(findings) > 0 {
		return findings // the format check would only read the same garbage again
	}
	err := Safely(func() error {
		return db.View(func(tx *bolt.Tx) error {
			_, err := formatPlan(tx, buckets)
			return err
		})
	})
	if err != nil {
		findings = append(findings, err.Error())
	}
	return findings
}

func damaged(path string, findings []string) error {
	const show = 5
	more := ""
	if len(findings) > show {
		more = fmt.Sprintf(" (and %d more)", len(findings)-show)
		findings = findings[:show]
	}
	return fmt.Errorf("%s is damaged: %v%s: %w; restore it from a backup (`coffer admin check --data DIR` lists what is wrong)", path, findings, more, ErrDamaged)
}

// walk reads every key and value of every bucket, with faults caught, and then runs bbolt's
// own check (which runs in a goroutine of its own, where faults are not caught: hence the walk
// first, which touches every page the check will read).
func walk(db *bolt.DB) []string {
	err := Safely(func() error {
		return db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walkBucket(b, name) })
		})
	})
	if err != nil {
		return []string{err.Error()}
	}
	var findings []string
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			findings = append(findings, err.Error())
		}
		return nil
	})
	if err != nil {
		findings = append(findings, err.Error())
	}
	return findings
}

func walkBucket(b *bolt.Bucket, path []byte) error {
	var sum uint32
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		sum = crc32.Update(sum, crc32.IEEETable, k)
		if v != nil {
			sum = crc32.Update(sum, crc32.IEEETable, v) // touch every byte of the value
			continue
		}
		child := b.Bucket(k)
		if child == nil {
			return fmt.Errorf("bucket %q: entry %q has no value and is no bucket", path, k)
		}
		if err := walkBucket(child, append(append(append([]byte(nil), path...), '/'), k...)); err != nil {
			return err
		}
	}
	_ = sum
	return nil
}

// Safely runs fn with memory faults turned into panics and any panic into an error wrapping
// ErrDamaged, so that a damaged page read through bbolt's mmap fails the operation instead of
// killing the process. It applies to the calling goroutine only, for the duration of fn.
func Safely(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			if rerr, ok := r.(error); ok {
				err = fmt.Errorf("%w: reading the file failed: %w", ErrDamaged, rerr)
				return
			}
			err = fmt.Errorf("%w: reading the file failed: %v", ErrDamaged, r)
		}
	}()
	return fn()
}

// IsFault reports whether err is a memory fault that Safely turned into an error (a page of
// the mapping that could not be read), as opposed to another panic. After a fault bbolt may
// still hold the locks it took before it faulted, so the DB is no longer safe to use.
func IsFault(err error) bool {
	var fault interface{ Addr() uintptr } // see runtime/debug.SetPanicOnFault
	return errors.As(err, &fault)
}
