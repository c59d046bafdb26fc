package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// recoverJournals finishes into log files the journals a crash left (Open, before the writer
// goroutine starts). A journal whose log file already exists was finished before the crash
// removed it; an empty one is removed; a torn tail is dropped (it was never acknowledged).
func (w *Writer) recoverJournals() error {
	jd := filepath.Join(w.cfg.Dir, journalDir)
	ents, err := os.ReadDir(jd)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	removed := false
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name(), journalExt)
		if !ok || e.IsDir() {
			continue
		}
		if err := w.recoverJournal(filepath.Join(jd, e.Name()), base); err != nil {
			return err
		}
		removed = true
	}
	if removed {
		return syncDir(jd)
	}
	return nil
}

func (w *Writer) recoverJournal(path, base string) error {
	rel, err := logPath(base)
	if err != nil {
		return fmt.Errorf("audit: journal %s: %w", path, err)
	}
	logFile := filepath.Join(w.cfg.Dir, filepath.FromSlash(rel))
	if _, err := os.Stat(logFile); err == nil {
		w.log.Info("audit: removing a journal already finished before a crash", "journal", path)
		return os.Remove(path)
	}
	jr, err := readJournal(path)
	if errors.Is(err, ErrJournal) {
		return fmt.Errorf("audit: %s: %w; move it aside to start", path, err)
	}
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if jr.torn > 0 {
		w.log.Warn("audit: dropped the torn tail of a journal left by a crash (never acknowledged)",
			"journal", path, "bytes", jr.torn, "records kept", len(jr.records))
	}
	if len(jr.records) > 0 {
		if err := writeFileDurably(logFile, gzipRecords(jr.records)); err != nil {
			return fmt.Errorf("audit: recover journal %s: %w", path, err)
		}
		w.log.Info("audit: finished a journal left by a crash", "log", rel, "records", len(jr.records))
		if t, err := logStart(base); err == nil && t.After(w.lastStart) {
			w.lastStart = t
		}
	}
	return os.Remove(path)
}
