package boltmeta

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/meta"
)

// Every caller must get exactly its own outcome: nil => its key is stored, error => it is not.
// (From this session's storage review.)
func TestCommitterOutcomes(t *testing.T) {
	db, c := newCommitter(t)
	const n = 2000
	errs := make([]error, n)
	runs := make([]int, n)
	var wg sync.WaitGroup
	myErr := errors.New("mine")
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.update(func(tx *bolt.Tx) error {
				runs[i]++
				k := []byte(fmt.Sprint(i))
				if err := tx.Bucket([]byte("b")).Put(k, k); err != nil {
					return err
				}
				switch i % 7 {
				case 3:
					return fmt.Errorf("%w %d", myErr, i)
				case 5:
					panic("boom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	maxRuns := 0
	db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		for i := range n {
			stored := b.Get([]byte(fmt.Sprint(i))) != nil
			maxRuns = max(maxRuns, runs[i])
			switch i % 7 {
			case 3:
				if !errors.Is(errs[i], myErr) || errs[i].Error() != fmt.Sprintf("mine %d", i) || stored {
					t.Errorf("%d: err %v stored %v", i, errs[i], stored)
				}
			case 5:
				if errs[i] == nil || stored {
					t.Errorf("%d: err %v stored %v", i, errs[i], stored)
				}
			default:
				if errs[i] != nil || !stored {
					t.Errorf("%d: err %v stored %v", i, errs[i], stored)
				}
			}
		}
		return nil
	})
	t.Logf("max runs of one fn: %d", maxRuns)
}

// TestRefusalsDoNotRollBack: calls that fail before writing (a delete of a missing key, a
// failed condition) leave the batch alone, so every fn runs exactly once however many such
// calls share it, and each caller still gets its own outcome.
func TestRefusalsDoNotRollBack(t *testing.T) {
	db, c := newCommitter(t)
	const n = 2000
	errs := make([]error, n)
	var runs [n]int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = c.update(func(tx *bolt.Tx) error {
				mu.Lock()
				runs[i]++
				mu.Unlock()
				switch i % 3 {
				case 1:
					return meta.ErrNoSuchKey // a sentinel: known to come before any write
				case 2:
					return refuse(fmt.Errorf("condition %d failed", i))
				}
				k := []byte(fmt.Sprint(i))
				return tx.Bucket([]byte("b")).Put(k, k)
			})
		})
	}
	wg.Wait()
	for i := range n {
		if runs[i] != 1 {
			t.Fatalf("fn %d ran %d times", i, runs[i])
		}
		switch i % 3 {
		case 1:
			if !errors.Is(errs[i], meta.ErrNoSuchKey) {
				t.Fatalf("%d: %v", i, errs[i])
			}
		case 2:
			if errs[i] == nil || errs[i].Error() != fmt.Sprintf("condition %d failed", i) {
				t.Fatalf("%d: %v (the refusal marker must not show)", i, errs[i])
			}
		default:
			if errs[i] != nil {
				t.Fatalf("%d: %v", i, errs[i])
			}
		}
	}
	db.View(func(tx *bolt.Tx) error {
		for i := range n {
			if stored := tx.Bucket([]byte("b")).Get([]byte(fmt.Sprint(i))) != nil; stored != (i%3 == 0) {
				t.Errorf("%d stored %v", i, stored)
			}
		}
		return nil
	})
}

// newCommitter returns a committer on a fresh database with one bucket "b" (fsync off: these
// tests are about grouping, not durability).
func newCommitter(t *testing.T) (*bolt.DB, *committer) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "x.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return db, &committer{db: db}
}
