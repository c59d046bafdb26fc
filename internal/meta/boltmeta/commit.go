package boltmeta

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/meta"
)

// committer groups concurrent write transactions into one bbolt commit (one fsync), like
// bbolt's DB.Batch but without its fixed delay: an idle store commits at once, and writers that
// arrive while a commit is in progress are committed together by the next one.
//
// Each fn must depend only on the transaction it is given, so that running it again after a
// rolled-back attempt is harmless. Results are delivered through the fn's closure; the value of
// the last run is the one that committed.
//
// A fn that fails before writing anything says so by returning one of meta's sentinel errors
// or an error wrapped by refuse: the batch then goes on without it, with no rollback. Any other
// error rolls the transaction back and the batch runs again without the failed call, so one
// cheap failing request (a delete of a missing key) cannot make a whole batch run twice.
type committer struct {
	db *bolt.DB
	// fault is the first memory fault met reading the file (see boltfile.IsFault): bbolt may
	// hold its locks for ever after one, so every later call fails with it instead of waiting.
	fault atomic.Pointer[error]

	mu    sync.Mutex
	queue []*call
	busy  bool // a leader is running batches
}

type call struct {
	fn      func(*bolt.Tx) error
	err     error
	refused bool      // failed before writing: its error stands whatever the commit does
	wake    chan bool // receives true: lead the next batch; false: done, err is set
}

// refusal marks an error returned before a transaction wrote anything.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }
func (r refusal) Unwrap() error { return r.err }

// refuse marks err as returned before fn wrote anything (see committer).
func refuse(err error) error { return refusal{err} }

// beforeWrites reports whether err is known to come before any write of its fn.
func beforeWrites(err error) bool {
	var r refusal
	if errors.As(err, &r) {
		return true
	}
	for _, s := range []error{meta.ErrNoSuchBucket, meta.ErrNoSuchKey, meta.ErrNoSuchUpload, meta.ErrBucketExists, meta.ErrBucketNotEmpty, meta.ErrPartChanged} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// update runs fn in a write transaction, possibly shared with other callers, and returns
// fn's error or the commit's.
func (c *committer) update(fn func(*bolt.Tx) error) error {
	if err := c.faulted(); err != nil {
		return err
	}
	cl := &call{fn: fn, wake: make(chan bool, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, cl)
	if c.busy {
		c.mu.Unlock()
		if lead := <-cl.wake; !lead {
			return cl.err
		}
	} else {
		c.busy = true
		c.mu.Unlock()
	}
	c.lead()
	return cl.err
}

// lead commits everything queued, then passes leadership to a caller that queued meanwhile.
func (c *committer) lead() {
	c.mu.Lock()
	batch := c.queue
	c.queue = nil
	c.mu.Unlock()

	c.run(batch)
	for _, cl := range batch[1:] { // batch[0] is the leader itself
		cl.wake <- false
	}

	c.mu.Lock()
	if len(c.queue) == 0 {
		c.busy = false
	} else {
		c.queue[0].wake <- true
	}
	c.mu.Unlock()
}

// run commits the calls in one transaction. A call that fails rolls the transaction back; it
// keeps its error (its view included the effects of the calls before it, which are then
// re-applied, so the order stays serial) and the others run again without it.
func (c *committer) run(batch []*call) {
	for len(batch) > 0 {
		failed := -1
		// Faults become errors here, whichever caller's goroutine leads the batch, so that
		// the callers waiting on it are released and no fault kills the process.
		err := c.guard(func() error {
			return c.db.Update(func(tx *bolt.Tx) error {
				for i, cl := range batch {
					cl.refused = false
					if cl.err = safeCall(cl.fn, tx); cl.err != nil {
						if beforeWrites(cl.err) {
							cl.refused = true
							cl.err = unrefuse(cl.err)
							continue
						}
						failed = i
						return cl.err
					}
				}
				return nil
			})
		})
		if boltfile.IsFault(err) {
			for _, cl := range batch {
				cl.err = err
			}
			return
		}
		if failed < 0 {
			for _, cl := range batch {
				// A refusal judged state that a failed commit never made durable; with the
				// outcome unknown, its caller gets the commit's error too.
				if !cl.refused || err != nil {
					cl.err = err // nil, or the commit's failure
				}
			}
			return
		}
		rest := make([]*call, 0, len(batch)-1)
		rest = append(rest, batch[:failed]...)
		batch = append(rest, batch[failed+1:]...)
	}
}

// guard runs fn (a bbolt call) under boltfile.Safely and keeps the first memory fault for
// every later call.
func (c *committer) guard(fn func() error) error {
	if err := c.faulted(); err != nil {
		return err
	}
	err := boltfile.Safely(fn)
	if boltfile.IsFault(err) {
		c.fault.CompareAndSwap(nil, &err)
	}
	return err
}

// faulted returns the memory fault met earlier, if any.
func (c *committer) faulted() error {
	if p := c.fault.Load(); p != nil {
		return *p
	}
	return nil
}

// unrefuse strips the refusal marker so callers see the plain error.
func unrefuse(err error) error {
	if r, ok := err.(refusal); ok {
		return r.err
	}
	return err
}

// safeCall turns a panic in fn into an error so that the callers waiting on this batch are
// released instead of hanging.
func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("boltmeta: panic in transaction: %v", p)
		}
	}()
	return fn(tx)
}
