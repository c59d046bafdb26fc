package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// startSegment opens the journal of a new log file.
func (w *Writer) startSegment() error {
	t := w.cfg.Now()
	if !t.After(w.lastStart) {
		t = w.lastStart.Add(time.Nanosecond)
	}
	base := logBase(w.cfg.Region, t)
	rel, err := logPath(base)
	if err != nil {
		return err
	}
	j, err := createJournal(filepath.Join(w.cfg.Dir, journalDir, base+journalExt))
	if err != nil {
		return err
	}
	if err := syncDir(filepath.Join(w.cfg.Dir, journalDir)); err != nil {
		j.close()
		return err
	}
	w.lastStart = t
	w.seg = &segment{j: j, log: rel, start: t}
	w.mu.Lock()
	w.segs = append(w.segs, w.seg)
	w.mu.Unlock()
	return nil
}

// roll hands the open log file to the roller goroutine, which finishes it while records go
// on into a new one (a full roller makes the writer wait).
func (w *Writer) roll() {
	if w.seg == nil {
		return
	}
	s := w.seg
	w.seg = nil
	s.done = make(chan struct{})
	w.pending = append(w.pruneFinished(), s)
	w.rolls <- s
}

// pruneFinished drops from pending the log files the roller has finished.
func (w *Writer) pruneFinished() []*segment {
	n := 0
	for _, s := range w.pending {
		select {
		case <-s.done:
			if s.err == nil {
				continue
			}
		default:
		}
		w.pending[n] = s
		n++
	}
	clear(w.pending[n:])
	return w.pending[:n]
}

// finishRolls waits for the log files handed to the roller; one it failed to finish is tried
// once more here.
func (w *Writer) finishRolls() error {
	for len(w.pending) > 0 {
		s := w.pending[0]
		<-s.done
		if s.err != nil {
			if s.err = w.finish(s); s.err != nil {
				return s.err
			}
		}
		w.pending[0] = nil
		w.pending = w.pending[1:]
	}
	w.pending = nil
	return nil
}

// runRoller is the roller goroutine: it finishes the log files roll hands it, in order.
func (w *Writer) runRoller() {
	defer close(w.rollerDone)
	for s := range w.rolls {
		if s.err = w.finish(s); s.err != nil {
			w.log.Error("audit: finishing a log file failed; its records stay in the journal, the next digest tries again", "log", s.log, "err", s.err)
		}
		close(s.done)
	}
}

// finish writes a segment's records as its gzip log file, durably, then removes its journal.
// Until the log file is in place Events reads the records from memory; from then on from the
// file (Events skips a segment whose log file it finds).
func (w *Writer) finish(s *segment) error {
	if !s.written {
		w.mu.Lock()
		recs := s.recs
		w.mu.Unlock()
		if err := writeFileDurably(filepath.Join(w.cfg.Dir, filepath.FromSlash(s.log)), gzipRecords(recs)); err != nil {
			return fmt.Errorf("audit: finish log file: %w", err)
		}
		s.written = true
		w.mu.Lock()
		if i := slices.Index(w.segs, s); i >= 0 {
			w.segs = slices.Delete(w.segs, i, i+1)
		}
		s.recs = nil // read from the log file from now on
		w.mu.Unlock()
	}
	s.j.close()
	if err := os.Remove(s.j.path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("audit: remove finished journal: %w", err)
	}
	return syncDir(filepath.Dir(s.j.path))
}
