package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Writer.
type Config struct {
	Dir         string // the audit directory, DIR/audit
	Region      string
	AccountID   string // awsAccountId of the local digests (the server's default account)
	Signer      Signer
	Now         func() time.Time // time.Now when nil
	RollEvery   time.Duration    // a log file is finished this long after its first record (0: 5 min)
	RollSize    int64            // ... or at this many uncompressed bytes (0: 8 MiB)
	DigestEvery time.Duration    // digest period (0: 1 hour)
	// SyncEvery is the flush policy of the journal. Zero: every batch of records is flushed
	// (fdatasync) before Record returns, so an acknowledged record survives power loss.
	// Positive: Record returns once the record is written into the journal — in the kernel's
	// page cache, where it survives the death of the process, kill -9 included — and the
	// journal is flushed at most SyncEvery later (and whenever a log file is finished), so
	// power loss can take the records of at most the last SyncEvery.
	SyncEvery time.Duration
	Logger    *slog.Logger
}

// DataSelector says which S3 data events some trail wants (cloudtrail's trails).
type DataSelector interface {
	WantsData(account, objectARN string, readOnly bool) bool
}

// ErrClosed is returned by Record on a closed Writer.
var ErrClosed = errors.New("audit: writer closed")

// maxBatch bounds how many records share one fsync.
const maxBatch = 1024

// Writer keeps records durably: Record appends each to the journal of the open log file and
// returns once it is fsynced; records arriving together share one write and one fsync (group
// commit by a single writer goroutine). The log file is finished (a gzip file under logs/,
// the journal removed) RollEvery after its first record or at RollSize bytes, and every
// DigestEvery a signed digest lists the log files finished since the previous one.
type Writer struct {
	cfg Config
	log *slog.Logger

	reqs chan *request // records for the writer goroutine
	ctl  chan control  // Roll, Digest, Close
	done chan struct{} // closed when the writer goroutine has stopped

	sel atomic.Pointer[selectorBox]

	// mu guards segs: the log files not yet finished (those the roller works on, then the
	// open one), whose records Events reads.
	mu     sync.Mutex
	segs   []*segment
	closed atomic.Bool
	syncs  atomic.Int64 // journal flushes, for tests and benchmarks

	rolls      chan *segment // log files for the roller goroutine to finish
	rollerDone chan struct{}

	// The rest belongs to the writer goroutine.
	seg        *segment   // the open log file, nil before the next record
	pending    []*segment // handed to the roller, not yet seen finished
	lastStart  time.Time  // start of the newest log file, so names keep increasing
	chain      chainState
	nextDigest time.Time
	sticky     error     // after a failed fsync, every Record fails
	unflushed  time.Time // with SyncEvery: when (real clock) the first record not yet flushed was written; zero when none
	buf        []byte
	batch      []*request
}

type selectorBox struct{ s DataSelector }

// segment is a log file not yet finished: its journal and its records.
type segment struct {
	j     *journalFile
	log   string // its path once finished, relative to the audit directory
	start time.Time
	size  int64    // uncompressed bytes of its records
	recs  [][]byte // guarded by Writer.mu while the segment is in Writer.segs

	done    chan struct{} // closed once the roller tried to finish it
	err     error         // what the roller's try returned
	written bool          // its log file is in place (finish tries only what is left)
}

type request struct {
	payloads [][]byte // a record, and its copies for other accounts (committed together)
	done     chan error
}

type control struct {
	fn   func() error
	res  chan error
	stop bool // the writer goroutine ends after fn
}

var _ Recorder = (*Writer)(nil)

// Open opens the audit directory: it finishes the journals a crash left into log files,
// reads the state of the digest chain, and starts the writer goroutine, which also rolls log
// files and writes digests on time.
func Open(ctx context.Context, cfg Config) (*Writer, error) {
	if cfg.Dir == "" || cfg.Signer == nil {
		return nil, errors.New("audit: Config.Dir and Config.Signer are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RollEvery <= 0 {
		cfg.RollEvery = 5 * time.Minute
	}
	if cfg.RollSize <= 0 {
		cfg.RollSize = 8 << 20
	}
	if cfg.DigestEvery <= 0 {
		cfg.DigestEvery = time.Hour
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{cfg: cfg, log: log, reqs: make(chan *request, maxBatch), ctl: make(chan control),
		done: make(chan struct{}), rolls: make(chan *segment, 4), rollerDone: make(chan struct{})}
	for _, sub := range []string{journalDir, logsDir, digestsDir} {
		if err := mkdirDurably(filepath.Join(cfg.Dir, sub)); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
	}
	logs, err := listLogs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if len(logs) > 0 {
		w.lastStart, _ = logStart(logs[len(logs)-1])
	}
	if err := w.recoverJournals(); err != nil {
		return nil, err
	}
	if w.chain, err = loadChain(cfg.Dir, log); err != nil {
		return nil, err
	}
	now := cfg.Now()
	if w.chain.prevEnd.IsZero() {
		w.chain.start = now
		w.nextDigest = now.Add(cfg.DigestEvery)
	} else {
		w.chain.start = w.chain.prevEnd
		w.nextDigest = w.chain.prevEnd.Add(cfg.DigestEvery)
	}
	go w.run()
	go w.runRoller()
	return w, nil
}

// Record implements Recorder: it fills e's EventVersion, EventID and EventTime when empty,
// and returns once e's record is in the journal (see Config.SyncEvery). ctx does not abandon
// the record: the call it describes has already happened, and a caller that goes away (a
// client closing its connection right after a PutKeyPolicy) must not leave it unrecorded.
func (w *Writer) Record(_ context.Context, e *Event) error {
	now := w.cfg.Now().UTC()
	if e.EventVersion == "" {
		e.EventVersion = EventVersion
	}
	if e.EventID == "" {
		e.EventID = newUUID()
	}
	if e.EventTime == "" {
		e.EventTime = FormatTime(now)
	}
	payloads, err := marshalCopies(e)
	if err != nil {
		return err
	}
	r := &request{payloads: payloads, done: make(chan error, 1)}
	if w.closed.Load() {
		return ErrClosed
	}
	select {
	case w.reqs <- r:
	case <-w.done:
		return ErrClosed
	}
	select {
	case err := <-r.done:
		return err
	case <-w.done:
		select {
		case err := <-r.done:
			return err
		default:
			return ErrClosed
		}
	}
}

// marshalCopies returns the record of e and, when e concerns other accounts than its
// recipient (the caller's account and a resource's owner differ: a key of another account
// used, a role of another account assumed, a bucket of another account written), a copy for
// each of them — its own eventID and recipientAccountId, the sharedEventID of all — as
// CloudTrail delivers a cross-account event to every account it concerns.
func marshalCopies(e *Event) ([][]byte, error) {
	others := e.otherRecipients()
	if len(others) > 0 && e.SharedEventID == "" {
		e.SharedEventID = newUUID()
	}
	payload, err := MarshalEvent(e)
	if err != nil {
		return nil, fmt.Errorf("audit record: %w", err)
	}
	if len(payload) > maxFieldSize && omitLargeFields(e) {
		if payload, err = MarshalEvent(e); err != nil {
			return nil, fmt.Errorf("audit record: %w", err)
		}
	}
	if len(payload) > maxRecordSize {
		return nil, fmt.Errorf("audit record: %d bytes, more than %d", len(payload), maxRecordSize)
	}
	out := [][]byte{payload}
	for _, account := range others {
		c := *e
		c.EventID, c.RecipientAccountID = newUUID(), account
		b, err := MarshalEvent(&c)
		if err != nil {
			return nil, fmt.Errorf("audit record: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// otherRecipients are the accounts besides e's recipient that an API call concerns: the
// caller's, and the owners of its resources.
func (e *Event) otherRecipients() []string {
	if e.EventType != TypeAPICall || e.RecipientAccountID == "" {
		return nil
	}
	var out []string
	add := func(account string) {
		if account != "" && account != anonymousAccount && account != e.RecipientAccountID && !slices.Contains(out, account) {
			out = append(out, account)
		}
	}
	add(e.UserIdentity.AccountID)
	for _, r := range e.Resources {
		add(r.AccountID)
	}
	return out
}

// maxFieldSize bounds the JSON of a record's requestParameters, responseElements and
// additionalEventData, as CloudTrail bounds them (100 KB).
const maxFieldSize = 100 << 10

// omitLargeFields empties each of e's requestParameters, responseElements and
// additionalEventData whose JSON is over maxFieldSize — noting which in additionalEventData
// ("requestParametersOmitted": true ...) — and reports whether it emptied any. The record of a
// call whose parameters are too large to keep is kept without them, rather than the call,
// already made, failing for want of a record.
func omitLargeFields(e *Event) bool {
	var omitted []string
	for _, f := range []struct {
		name string
		m    *map[string]any
	}{{"requestParameters", &e.RequestParameters}, {"responseElements", &e.ResponseElements}, {"additionalEventData", &e.AdditionalEventData}} {
		if b, err := appendMap(nil, *f.m); err != nil || len(b) > maxFieldSize {
			*f.m = nil
			omitted = append(omitted, f.name)
		}
	}
	if len(omitted) == 0 {
		return false
	}
	if e.AdditionalEventData == nil {
		e.AdditionalEventData = map[string]any{}
	}
	for _, name := range omitted {
		e.AdditionalEventData[name+"Omitted"] = true
	}
	return true
}

// WantsData implements Recorder: it asks the DataSelector set by SetDataSelector.
func (w *Writer) WantsData(account, objectARN string, readOnly bool) bool {
	b := w.sel.Load()
	return b != nil && b.s != nil && b.s.WantsData(account, objectARN, readOnly)
}

// SetDataSelector sets what WantsData asks (nil: no data events).
func (w *Writer) SetDataSelector(s DataSelector) { w.sel.Store(&selectorBox{s}) }

// Roll finishes the open log file now, and returns once every log file started before is
// finished; nothing happens when it holds no record.
func (w *Writer) Roll(ctx context.Context) error {
	return w.do(ctx, func() error { w.roll(); return w.finishRolls() }, false)
}

// Digest finishes the open log file, then writes the digest of the open period now.
func (w *Writer) Digest(ctx context.Context) error {
	return w.do(ctx, func() error { return w.digest(ctx) }, false)
}

// Close finishes the open log file and writes a final digest for the open period, so no
// finished log file is left outside the chain. Record fails after Close.
func (w *Writer) Close(ctx context.Context) error {
	if w.closed.Swap(true) {
		return ErrClosed
	}
	return w.do(ctx, func() error {
		w.drain()
		err := w.digest(ctx) // on failure, Open recovers the journals left
		close(w.rolls)
		<-w.rollerDone
		return err
	}, true)
}

// Dir is the audit directory.
func (w *Writer) Dir() string { return w.cfg.Dir }

// LogFiles describes the finished log files written after the one named after ("" for all),
// in write order.
func (w *Writer) LogFiles(after string) ([]LogFile, error) { return logFilesAfter(w.cfg.Dir, after) }

// do runs fn on the writer goroutine and waits for it.
func (w *Writer) do(ctx context.Context, fn func() error, stop bool) error {
	c := control{fn: fn, res: make(chan error, 1), stop: stop}
	select {
	case w.ctl <- c:
	case <-w.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is the writer goroutine: it commits records in batches and rolls and digests on time.
func (w *Writer) run() {
	defer close(w.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		timer.Reset(w.untilDue())
		select {
		case r := <-w.reqs:
			w.commit(r)
		case c := <-w.ctl:
			c.res <- c.fn()
			if c.stop {
				w.refuseQueued()
				return
			}
		case <-timer.C:
			w.onTime()
		}
	}
}

// untilDue is how long until the next flush, roll or digest is due.
func (w *Writer) untilDue() time.Duration {
	due := w.nextDigest
	if w.seg != nil {
		if roll := w.seg.start.Add(w.cfg.RollEvery); roll.Before(due) {
			due = roll
		}
	}
	d := due.Sub(w.cfg.Now())
	if !w.unflushed.IsZero() { // on the real clock: a test's moved clock must not hold a flush back
		d = min(d, time.Until(w.unflushed.Add(w.cfg.SyncEvery)))
	}
	return max(d, time.Millisecond)
}

// onTime flushes, rolls and digests what is due.
func (w *Writer) onTime() {
	now := w.cfg.Now()
	if !w.unflushed.IsZero() && time.Since(w.unflushed) >= w.cfg.SyncEvery {
		w.flushJournal()
	}
	if !now.Before(w.nextDigest) {
		if err := w.digest(context.Background()); err != nil {
			w.log.Error("audit: writing the digest failed; trying again in a minute", "err", err)
			w.nextDigest = now.Add(time.Minute)
		}
		return
	}
	if w.seg != nil && !now.Before(w.seg.start.Add(w.cfg.RollEvery)) {
		w.roll()
	}
}

// commit writes first and the records queued behind it with one write and one fsync.
func (w *Writer) commit(first *request) {
	batch := append(w.batch[:0], first)
more:
	for len(batch) < maxBatch {
		select {
		case r := <-w.reqs:
			batch = append(batch, r)
		default:
			break more
		}
	}
	err := w.write(batch)
	for i, r := range batch {
		r.done <- err
		batch[i] = nil
	}
	w.batch = batch[:0]
	if err == nil && w.seg.size >= w.cfg.RollSize {
		w.roll()
	}
}

func (w *Writer) write(batch []*request) error {
	if w.sticky != nil {
		return w.sticky
	}
	if w.seg == nil {
		if err := w.startSegment(); err != nil {
			return err
		}
	}
	buf := w.buf[:0]
	for _, r := range batch {
		for _, p := range r.payloads {
			buf = appendFrame(buf, p)
		}
	}
	w.buf = buf
	flush := w.cfg.SyncEvery <= 0
	if flush {
		w.syncs.Add(1)
	} else if w.unflushed.IsZero() {
		w.unflushed = time.Now()
	}
	if err := w.seg.j.append(buf, flush); err != nil {
		if errors.Is(err, errSticky) {
			w.sticky = err
			w.log.Error("audit: the journal could not be fsynced; no more records are taken", "err", err)
		}
		return err
	}
	w.mu.Lock()
	for _, r := range batch {
		for _, p := range r.payloads {
			w.seg.recs = append(w.seg.recs, p)
			w.seg.size += int64(len(p)) + 1
		}
	}
	w.mu.Unlock()
	return nil
}

// flushJournal flushes the records written into the open segment since the last flush (with
// SyncEvery). A failed flush stops the Writer, as in write.
func (w *Writer) flushJournal() {
	if w.unflushed.IsZero() || w.seg == nil {
		w.unflushed = time.Time{}
		return
	}
	w.unflushed = time.Time{}
	w.syncs.Add(1)
	if err := w.seg.j.flush(); err != nil && w.sticky == nil {
		w.sticky = err
		w.log.Error("audit: the journal could not be fsynced; no more records are taken", "err", err)
	}
}

// drain commits the records already queued (before Close finishes).
func (w *Writer) drain() {
	for {
		select {
		case r := <-w.reqs:
			w.commit(r)
		default:
			return
		}
	}
}

// refuseQueued answers the records queued after Close.
func (w *Writer) refuseQueued() {
	for {
		select {
		case r := <-w.reqs:
			r.done <- ErrClosed
		default:
			return
		}
	}
}

// NewEventID returns a new event id (CloudTrail's eventID): a caller that needs a record's id
// sets it before Record, which keeps it.
func NewEventID() string { return newUUID() }

// newUUID is a random (version 4) UUID, as CloudTrail's eventID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
