package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// startSegment opens the journal of a new log file.
func (w *Writer) startSegment() error {
	t := w.cfg.Now()
	if !t.After(w.lastStart) {
		t = w.lastStart.Add(time.Nanosecond)
	}
	base := logBase(w.cfg.Region, t)
	j, err := createJournal(filepath.Join(w.cfg.Dir, journalDir, base+journalExt))
	if err != nil {
		return err
	}
	if err := syncDir(filepath.Join(w.cfg.Dir, journalDir)); err != nil {
		j.close()
		return err
	}
	w.lastStart = t
	w.seg = &segment{j: j, base: base, start: t}
	return nil
}

// roll finishes the open log file: its records become a gzip log file under logs/, written
// durably, and its journal is removed.
func (w *Writer) roll() error {
	if w.seg == nil {
		return nil
	}
	w.mu.Lock()
	recs := w.recs
	w.mu.Unlock()
	raw := make([][]byte, len(recs))
	for i, r := range recs {
		raw[i] = r.raw
	}
	gz := gzipBytes(logBody(raw))
	rel, err := logPath(w.seg.base)
	if err != nil {
		return err
	}
	w.mu.Lock()
	err = writeFileDurably(filepath.Join(w.cfg.Dir, filepath.FromSlash(rel)), gz)
	if err == nil {
		w.recs = nil
	}
	w.mu.Unlock()
	if err != nil {
		return fmt.Errorf("audit: finish log file: %w", err)
	}
	w.seg.j.close()
	jpath := w.seg.j.path
	w.seg = nil
	w.rollRetry = time.Time{}
	if err := os.Remove(jpath); err != nil {
		return fmt.Errorf("audit: remove finished journal: %w", err)
	}
	return syncDir(filepath.Dir(jpath))
}
