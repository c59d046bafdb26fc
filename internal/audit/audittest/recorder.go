package audittest

import (
	"context"
	"errors"
	"sync"

	"github.com/coffer/coffer/internal/audit"
)

// ErrRecordFailed is what Recorder.Record returns while failing.
var ErrRecordFailed = errors.New("audittest: recording failed")

// Recorder is an in-memory audit.Recorder for unit tests of record shapes (the Writer is
// tested through a real server): it keeps copies of the records, and fails every Record while
// Fail(true) is in force. It selects no data events.
type Recorder struct {
	mu     sync.Mutex
	events []audit.Event
	fail   bool
}

var _ audit.Recorder = (*Recorder)(nil)

// Record implements audit.Recorder.
func (r *Recorder) Record(_ context.Context, e *audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return ErrRecordFailed
	}
	r.events = append(r.events, *e)
	return nil
}

// WantsData implements audit.Recorder.
func (r *Recorder) WantsData(string, string, bool) bool { return false }

// Fail makes every later Record fail (on) or succeed.
func (r *Recorder) Fail(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = on
}

// Events returns the records kept so far, oldest first.
func (r *Recorder) Events() []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]audit.Event(nil), r.events...)
}
