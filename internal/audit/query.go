package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Filter selects records; empty fields select everything.
type Filter struct {
	From, To       time.Time // event time bounds, inclusive; zero: unbounded
	EventName      string
	EventSource    string
	Username       string // userIdentity.userName, or the session issuer's for a role session
	AccessKeyID    string
	ResourceName   string // a resource ARN, or its last part (a key id, a bucket name), or requestParameters keyId
	ResourceType   string // AWS::KMS::Key, AWS::S3::Object ...
	EventID        string
	Account        string // recipientAccountId
	ReadOnly       *bool
	ManagementOnly bool
}

// Match reports whether f selects e.
func (f *Filter) Match(e *Event) bool {
	if !f.From.IsZero() || !f.To.IsZero() {
		t, err := time.Parse(time.RFC3339, e.EventTime)
		if err != nil || (!f.From.IsZero() && t.Before(f.From.Truncate(time.Second))) || (!f.To.IsZero() && t.After(f.To)) {
			return false
		}
	}
	switch {
	case f.EventName != "" && e.EventName != f.EventName,
		f.EventSource != "" && e.EventSource != f.EventSource,
		f.AccessKeyID != "" && e.UserIdentity.AccessKeyID != f.AccessKeyID,
		f.EventID != "" && e.EventID != f.EventID,
		f.Account != "" && e.RecipientAccountID != f.Account,
		f.ReadOnly != nil && e.ReadOnly != *f.ReadOnly,
		f.ManagementOnly && !e.ManagementEvent:
		return false
	}
	if f.Username != "" && !matchUser(e, f.Username) {
		return false
	}
	if f.ResourceType != "" && !slices.ContainsFunc(e.Resources, func(r Resource) bool { return r.Type == f.ResourceType }) {
		return false
	}
	return f.ResourceName == "" || matchResource(e, f.ResourceName)
}

func matchUser(e *Event, name string) bool {
	u := e.UserIdentity
	if u.UserName == name {
		return true
	}
	return u.SessionContext != nil && u.SessionContext.SessionIssuer != nil && u.SessionContext.SessionIssuer.UserName == name
}

func matchResource(e *Event, name string) bool {
	for _, r := range e.Resources {
		if r.ARN == name || strings.HasSuffix(r.ARN, "/"+name) || strings.HasSuffix(r.ARN, ":"+name) {
			return true
		}
	}
	for _, k := range []string{"keyId", "bucketName"} {
		if v, ok := e.RequestParameters[k].(string); ok && v == name {
			return true
		}
	}
	return false
}

// Events calls fn with the records f selects, newest first (by write order), those of log
// files not yet finished included, until fn returns false.
func (w *Writer) Events(ctx context.Context, f Filter, fn func(*Event) bool) error {
	w.mu.Lock()
	segs := make([]journal, len(w.segs))
	for i, s := range w.segs {
		segs[i] = journal{s.log, s.recs[:len(s.recs):len(s.recs)]}
	}
	w.mu.Unlock()
	return scanDir(ctx, w.cfg.Dir, segs, f, fn)
}

// journal is the records of a log file not yet finished, and its path once finished.
type journal struct {
	log     string
	records [][]byte
}

// scanDir lists the finished log files of dir after taking js, and walks the records of js
// whose log file is not among them, then those of the log files: a log file finished between
// the two is read once, from the file.
func scanDir(ctx context.Context, dir string, js []journal, f Filter, fn func(*Event) bool) error {
	logs, err := listLogs(dir)
	if err != nil {
		return err
	}
	var recs [][][]byte
	for i := len(js) - 1; i >= 0; i-- { // newest first
		if !slices.Contains(logs, js[i].log) {
			recs = append(recs, js[i].records)
		}
	}
	return scanEvents(ctx, dir, recs, logs, f, fn)
}

// Query calls fn with the records of the audit directory dir that f selects, newest first,
// those still in journals included, until fn returns false. It only reads, so it works on a
// running server's directory, a stopped one's, or a copy: journals are read before the log
// files are listed, and a journal whose log file is listed then is skipped (a roll finished
// it meanwhile), so each record is seen once.
func Query(dir string, f Filter, fn func(*Event) bool) error {
	ents, err := os.ReadDir(filepath.Join(dir, journalDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("audit: %w", err)
	}
	var js []journal
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name(), journalExt)
		if !ok {
			continue
		}
		rel, err := logPath(base)
		if err != nil {
			continue // not a journal of ours
		}
		jr, err := readJournal(filepath.Join(dir, journalDir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // finished and removed meanwhile: its log file is listed below
		}
		if err != nil {
			return fmt.Errorf("audit: %s: %w", e.Name(), err)
		}
		js = append(js, journal{rel, jr.records})
	}
	return scanDir(context.Background(), dir, js, f, fn)
}

// scanEvents walks the journals' records (newest journal first), then the log files (newest
// first), each from its last record back.
func scanEvents(ctx context.Context, dir string, journals [][][]byte, logs []string, f Filter, fn func(*Event) bool) error {
	visit := func(recs [][]byte) (bool, error) {
		for i := len(recs) - 1; i >= 0; i-- {
			var e Event
			if err := json.Unmarshal(recs[i], &e); err != nil {
				return false, fmt.Errorf("audit: a record does not parse: %w", err)
			}
			if f.Match(&e) && !fn(&e) {
				return false, nil
			}
		}
		return true, nil
	}
	for _, j := range journals {
		if more, err := visit(j); !more || err != nil {
			return err
		}
	}
	for i := len(logs) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return err
		}
		recs, err := ReadLogFile(filepath.Join(dir, filepath.FromSlash(logs[i])))
		if err != nil {
			return err
		}
		raw := make([][]byte, len(recs))
		for k, r := range recs {
			raw[k] = r
		}
		if more, err := visit(raw); !more || err != nil {
			return err
		}
	}
	return nil
}
