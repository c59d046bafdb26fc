package boltmeta

import (
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// committer groups concurrent write transactions into one bbolt commit (one fsync), like
// bbolt's DB.Batch but without its fixed delay: an idle store commits at once, and writers that
// arrive while a commit is in progress are committed together by the next one.
//
// Each fn must depend only on the transaction it is given, so that running it again after a
// rolled-back attempt is harmless. Results are delivered through the fn's closure; the value of
// the last run is the one that committed.
type committer struct {
	db    *bolt.DB
	mu    sync.Mutex
	queue []*call
	busy  bool // a leader is running batches
}

type call struct {
	fn   func(*bolt.Tx) error
	err  error
	wake chan bool // receives true: lead the next batch; false: done, err is set
}

// update runs fn in a write transaction, possibly shared with other callers, and returns
// fn's error or the commit's.
func (c *committer) update(fn func(*bolt.Tx) error) error {
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
		err := c.db.Update(func(tx *bolt.Tx) error {
			for i, cl := range batch {
				if cl.err = safeCall(cl.fn, tx); cl.err != nil {
					failed = i
					return cl.err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, cl := range batch {
				cl.err = err // nil, or the commit's failure
			}
			return
		}
		rest := make([]*call, 0, len(batch)-1)
		rest = append(rest, batch[:failed]...)
		batch = append(rest, batch[failed+1:]...)
	}
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
