package audit

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Local layout under the audit directory (SPEC.md).
const (
	journalDir = "journal"
	logsDir    = "logs"
	digestsDir = "digests"
	keysDir    = "keys"
	logExt     = ".json.gz"
	// LocalBucket is the digestS3Bucket and s3Bucket of the local chain: its digests and log
	// files are named by their path relative to the audit directory, as if in this bucket.
	LocalBucket = "coffer-audit"
)

// LogFile is one finished log file.
type LogFile struct {
	Name           string    // path relative to the audit directory, sortable in write order
	Oldest, Newest time.Time // event times
	SHA256         []byte    // of the uncompressed {"Records":[...]} bytes
}

// logBase names a log file started at t (nanoseconds, strictly increasing across the log
// files of one directory) in region: CloudTrail's AccountID_CloudTrail_Region_YYYYMMDDTHHmmZ_
// UniqueString with the account "coffer" (the local trail holds every account's records) and
// the unique string the 16 hex digits of t's Unix nanoseconds, so names sort in write order.
func logBase(region string, t time.Time) string {
	return fmt.Sprintf("coffer_CloudTrail_%s_%s_%016x", region, t.UTC().Format("20060102T1504Z"), t.UnixNano())
}

// logPath is the path, relative to the audit directory, of the log file named base.
func logPath(base string) (string, error) {
	t, err := logStart(base)
	if err != nil {
		return "", err
	}
	return path.Join(logsDir, t.UTC().Format("2006/01/02"), base+logExt), nil
}

// logStart is the start time a log base name (or file name) carries in its unique string.
func logStart(name string) (time.Time, error) {
	name = strings.TrimSuffix(path.Base(filepath.ToSlash(name)), logExt)
	i := strings.LastIndexByte(name, '_')
	if i < 0 || len(name)-i-1 != 16 || !strings.HasPrefix(name, "coffer_CloudTrail_") {
		return time.Time{}, fmt.Errorf("audit: %q is not a log file name", name)
	}
	ns, err := strconv.ParseUint(name[i+1:], 16, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("audit: %q is not a log file name", name)
	}
	return time.Unix(0, int64(ns)).UTC(), nil
}

// gzipRecords is a log file: the gzip compression of {"Records":[r1,r2,...]}. It compresses
// for speed: the format is the same at every level.
func gzipRecords(records [][]byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed) // a valid level: no error
	// Writes to a bytes.Buffer do not fail.
	zw.Write([]byte(`{"Records":[`))
	for i, r := range records {
		if i > 0 {
			zw.Write([]byte{','})
		}
		zw.Write(r)
	}
	zw.Write([]byte("]}"))
	zw.Close()
	return out.Bytes()
}

// logBody is the uncompressed content of a log file: {"Records":[r1,r2,...]}.
func logBody(records [][]byte) []byte {
	n := len(`{"Records":[]}`)
	for _, r := range records {
		n += len(r) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"Records":[`...)
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return append(b, "]}"...)
}

// gzipBytes compresses b.
func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	zw.Write(b) // writes to a bytes.Buffer do not fail
	zw.Close()
	return out.Bytes()
}

// gunzipFile reads and decompresses a gzip file, refusing more than limit bytes.
func gunzipFile(name string, limit int64) ([]byte, error) {
	var b bytes.Buffer
	if err := copyGunzipped(&b, name, limit); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// maxLogBody bounds what reading a log file decompresses: well above RollSize.
const maxLogBody = 1 << 30

// maxDigestBody bounds what reading a digest decompresses: a digest of tens of thousands of
// log files stays well below it.
const maxDigestBody = 64 << 20

// hashGzipFile returns the SHA-256 of a regular gzip file's decompressed bytes, reading them
// as a stream (a gzip bomb costs time, not memory) and refusing more than limit bytes.
func hashGzipFile(name string, limit int64) ([]byte, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", name, fi.Mode().Type())
	}
	h := sha256.New()
	if err := copyGunzipped(h, name, limit); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// copyGunzipped decompresses the gzip file name into w, refusing more than limit bytes.
func copyGunzipped(w io.Writer, name string, limit int64) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	n, err := io.Copy(w, io.LimitReader(zr, limit+1))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if n > limit {
		return fmt.Errorf("%s: larger than %d bytes uncompressed", name, limit)
	}
	return nil
}

// ReadLogFile returns the records of one gzip log file, in order.
func ReadLogFile(path string) ([]json.RawMessage, error) {
	body, err := gunzipFile(path, maxLogBody)
	if err != nil {
		return nil, err
	}
	return parseLogBody(body)
}

func parseLogBody(body []byte) ([]json.RawMessage, error) {
	var v struct {
		Records []json.RawMessage
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("audit log file: %w", err)
	}
	return v.Records, nil
}

// describeLog reads a log file and returns its LogFile: the hash of its uncompressed body and
// the range of its event times.
func describeLog(dir, name string) (LogFile, error) {
	body, err := gunzipFile(filepath.Join(dir, filepath.FromSlash(name)), maxLogBody)
	if err != nil {
		return LogFile{}, err
	}
	recs, err := parseLogBody(body)
	if err != nil {
		return LogFile{}, fmt.Errorf("%s: %w", name, err)
	}
	sum := sha256.Sum256(body)
	lf := LogFile{Name: name, SHA256: sum[:]}
	for _, r := range recs {
		lf.widen(eventTimeOf(r))
	}
	return lf, nil
}

// widen extends the event time range of lf by t (zero t: no change).
func (lf *LogFile) widen(t time.Time) {
	if t.IsZero() {
		return
	}
	if lf.Oldest.IsZero() || t.Before(lf.Oldest) {
		lf.Oldest = t
	}
	if t.After(lf.Newest) {
		lf.Newest = t
	}
}

// eventTimeOf reads the eventTime of one record; zero when it has none.
func eventTimeOf(rec []byte) time.Time {
	var v struct {
		EventTime string `json:"eventTime"`
	}
	if json.Unmarshal(rec, &v) != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v.EventTime)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// listLogs returns the names (relative to dir) of the finished log files under dir/logs, in
// write order: by the start time in their unique string (names sort so too while the region
// stays the same).
func listLogs(dir string) ([]string, error) {
	names, err := listFiles(dir, logsDir, func(name string) bool {
		_, err := logStart(name)
		return strings.HasSuffix(name, logExt) && err == nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(names, compareLogNames)
	return names, nil
}

// compareLogNames orders log file names by write order.
func compareLogNames(a, b string) int {
	ta, _ := logStart(a)
	tb, _ := logStart(b)
	if c := ta.Compare(tb); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// listFiles returns the slash-separated names, relative to dir, of the files under dir/sub
// that keep says to, sorted by name.
func listFiles(dir, sub string, keep func(name string) bool) ([]string, error) {
	var names []string
	err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if keep(rel) {
			names = append(names, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit: list %s: %w", sub, err)
	}
	slices.Sort(names)
	return names, nil
}

// logFilesAfter describes the finished log files of dir written after the one named after
// ("" for all), in write order.
func logFilesAfter(dir, after string) ([]LogFile, error) {
	names, err := listLogs(dir)
	if err != nil {
		return nil, err
	}
	var out []LogFile
	for _, n := range names {
		if after != "" && compareLogNames(n, after) <= 0 {
			continue
		}
		lf, err := describeLog(dir, n)
		if err != nil {
			return nil, err
		}
		out = append(out, lf)
	}
	return out, nil
}
