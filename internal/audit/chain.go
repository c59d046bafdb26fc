package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const (
	sigExt       = ".sig"
	digestMarker = "_CloudTrail-Digest_"
)

// chainState is where the local digest chain stands.
type chainState struct {
	prevObject string // path of the newest digest, "" before the first (a starting digest next)
	prevBody   []byte // its uncompressed bytes
	prevSig    string // its hex signature
	prevEnd    time.Time
	lastLog    string    // newest log file a digest lists
	start      time.Time // start of the open period
}

// digestPath names the local digest ending at end: CloudTrail's
// AccountID_CloudTrail-Digest_Region_TrailName_Region_YYYYMMDDTHHmmssZ.json.gz under
// digests/YYYY/MM/DD, with account "coffer" and trail name "coffer-audit".
func digestPath(region string, end time.Time) string {
	end = end.UTC()
	return path.Join(digestsDir, end.Format("2006/01/02"),
		fmt.Sprintf("coffer%s%s_%s_%s_%s%s", digestMarker, region, LocalBucket, region, end.Format("20060102T150405Z"), logExt))
}

// digestEnd is the end time a digest file name carries.
func digestEnd(name string) (time.Time, bool) {
	base := strings.TrimSuffix(path.Base(name), logExt)
	i := strings.LastIndexByte(base, '_')
	if i < 0 || !strings.Contains(base, digestMarker) {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T150405Z", base[i+1:])
	return t, err == nil
}

// listDigests returns the digest files under dir/digests, oldest first.
func listDigests(dir string) ([]string, error) {
	names, err := listFiles(dir, digestsDir, func(name string) bool {
		_, ok := digestEnd(name)
		return strings.HasSuffix(name, logExt) && ok
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(names, func(a, b string) int {
		ta, _ := digestEnd(a)
		tb, _ := digestEnd(b)
		if c := ta.Compare(tb); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return names, nil
}

// readDigest reads a local digest: its uncompressed bytes, parsed, and the hex signature
// stored beside it ("" when that file is missing).
func readDigest(dir, name string) (body []byte, d *Digest, sig string, err error) {
	p := filepath.Join(dir, filepath.FromSlash(name))
	body, err = gunzipFile(p, maxDigestBody)
	if err != nil {
		return nil, nil, "", err
	}
	d = new(Digest)
	if err := json.Unmarshal(body, d); err != nil {
		return nil, nil, "", fmt.Errorf("%s: %w", name, err)
	}
	if s, err := os.ReadFile(p + sigExt); err == nil {
		sig = strings.TrimSpace(string(s))
	}
	return body, d, sig, nil
}

// loadChain reads the chain state from the newest digest. A newest digest that cannot be read
// (or has no signature) cannot be continued: the next digest starts a new chain, which Verify
// reports as a gap.
func loadChain(dir string, log *slog.Logger) (chainState, error) {
	names, err := listDigests(dir)
	if err != nil {
		return chainState{}, err
	}
	var c chainState
	for i := len(names) - 1; i >= 0; i-- {
		body, d, sig, err := readDigest(dir, names[i])
		if i == len(names)-1 {
			c.prevEnd, _ = digestEnd(names[i])
			if err != nil || sig == "" {
				log.Error("audit: the newest digest cannot be read or has no signature; the next digest starts a new chain",
					"digest", names[i], "err", err)
			} else {
				c.prevObject, c.prevBody, c.prevSig = names[i], body, sig
			}
		}
		if err == nil && len(d.LogFiles) > 0 {
			c.lastLog = d.LogFiles[len(d.LogFiles)-1].S3Object
			break
		}
	}
	return c, nil
}

// digest finishes the open log file, then writes and signs the digest of the open period:
// the log files finished since the previous digest. Its signature is written first, beside
// it, so a digest on disk always has one.
func (w *Writer) digest(ctx context.Context) error {
	w.roll()
	if err := w.finishRolls(); err != nil {
		return err
	}
	c := &w.chain
	end := w.cfg.Now().UTC().Truncate(time.Second)
	if !end.After(c.prevEnd) {
		end = c.prevEnd.Add(time.Second) // names and periods keep increasing
	}
	logs, err := logFilesAfter(w.cfg.Dir, c.lastLog)
	if err != nil {
		return err
	}
	start := c.start
	for _, lf := range logs {
		if !lf.Oldest.IsZero() && lf.Oldest.Before(start) && c.prevObject == "" {
			start = lf.Oldest
		}
	}
	name := digestPath(w.cfg.Region, end)
	d := &Digest{AWSAccountID: w.cfg.AccountID, DigestStartTime: FormatTime(start), DigestEndTime: FormatTime(end),
		DigestS3Bucket: LocalBucket, DigestS3Object: name, LogFiles: []DigestLogFile{}}
	if c.prevObject != "" {
		d.Previous(LocalBucket, c.prevObject, c.prevBody, c.prevSig)
	}
	for _, lf := range logs {
		d.AddLogFile(LocalBucket, lf.Name, lf)
	}
	body, sig, err := SignDigest(ctx, w.cfg.Signer, d)
	if err != nil {
		return err
	}
	p := filepath.Join(w.cfg.Dir, filepath.FromSlash(name))
	if err := writeFileDurably(p+sigExt, []byte(sig+"\n")); err != nil {
		return fmt.Errorf("audit digest: %w", err)
	}
	if err := writeFileDurably(p, gzipBytes(body)); err != nil {
		return fmt.Errorf("audit digest: %w", err)
	}
	c.prevObject, c.prevBody, c.prevSig, c.prevEnd, c.start = name, body, sig, end, end
	if len(logs) > 0 {
		c.lastLog = logs[len(logs)-1].Name
	}
	w.nextDigest = end.Add(w.cfg.DigestEvery)
	return nil
}
