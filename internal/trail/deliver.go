package trail

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/object"
)

// Delivery copies each logging trail's records from the audit Writer's finished local log
// files into the trail's bucket, and signs the trail's digest files there:
//
//   - A log file is written at CloudTrail's key, <prefix>/AWSLogs/<acct>/CloudTrail/<region>/
//     YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 hex>.json.gz, gzip of
//     {"Records":[...]}: the records of one local log file that the trail selects (those of
//     its account, from its StartLoggingTime, that its event selectors select). Its key is a
//     function of the trail and the local file only (the time of its newest record, and 16 hex
//     digits of SHA-256(trail ARN, local file name)), so a delivery redone after a crash
//     writes the same object again rather than a second one.
//   - The trail's cursor (the last local file delivered) advances, and the file joins the list
//     the next digest holds, in one store update made only after the object is written; a
//     file already listed is not listed twice. A crash between the write and the update
//     therefore redoes the write, and the digest lists the file once.
//   - Every DigestEvery (one hour), and at StopLogging, DeleteTrail and shutdown, a digest
//     file (audit.Digest, signed by audit.SignDigest, chained to the trail's previous digest)
//     is written at <prefix>/AWSLogs/<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/
//     <acct>_CloudTrail-Digest_<region>_<trail>_<home region>_<YYYYMMDDTHHmmssZ>.json.gz with
//     its signature in x-amz-meta-signature and x-amz-meta-signature-algorithm, then the chain
//     state advances. A crash between the two leaves a valid digest outside the chain and the
//     next digest lists the same files again: nothing is left undigested.
//   - The first digest after StartLogging starts a chain (previous* null); StopLogging and
//     DeleteTrail end it with a final digest.
//
// With nodes sharing the trail store (Config.Node), every node delivers the records of its
// own local log files, with its own cursor and its own digest chain (Trail.Deliveries), so
// that no node's records or digests depend on another's. Two things differ from CloudTrail's
// layout then, so that nodes never write the same key: the 16 hex digits of a log file's key
// are of SHA-256(trail ARN, node id, local file name), and a digest file's key has the node
// id before its time, <acct>_CloudTrail-Digest_<region>_<trail>_<home region>_<node>_
// <YYYYMMDDTHHmmssZ>.json.gz: a trail has one digest chain per node (`coffer audit verify`
// and a validator that follows each chain from its newest digest check them; `aws cloudtrail
// validate-logs` expects one chain per trail and region).

// gzipBytes compresses b; with no name or time in its header the output is a function of b.
func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b) // writes to a bytes.Buffer do not fail
	zw.Close()
	return out.Bytes()
}

// logsRoot is the key prefix of everything the trail delivers: [<prefix>/]AWSLogs/<account>.
func logsRoot(t *Trail) string {
	root := "AWSLogs/" + t.Account
	if t.S3KeyPrefix != "" {
		root = t.S3KeyPrefix + "/" + root
	}
	return root
}

// logKey is where the records a trail selected from the local log file name, the newest of
// them at newest, are delivered.
func (s *Service) logKey(t *Trail, name string, newest time.Time) string {
	in := t.ARN() + "\x00" + name
	if s.cfg.Node != "" {
		in = t.ARN() + "\x00" + s.cfg.Node + "\x00" + name
	}
	sum := sha256.Sum256([]byte(in))
	newest = newest.UTC()
	return fmt.Sprintf("%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz", logsRoot(t), s.cfg.Region,
		newest.Format("2006/01/02"), t.Account, s.cfg.Region, newest.Format("20060102T1504Z"), hex.EncodeToString(sum[:8]))
}

// digestKey is where the trail's digest ending at end is delivered.
func (s *Service) digestKey(t *Trail, end time.Time) string {
	end = end.UTC()
	home := t.HomeRegion
	if s.cfg.Node != "" {
		home += "_" + s.cfg.Node
	}
	return fmt.Sprintf("%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_%s_%s_%s.json.gz", logsRoot(t), s.cfg.Region,
		end.Format("2006/01/02"), t.Account, s.cfg.Region, t.Name, home, end.Format("20060102T150405Z"))
}

// Run delivers every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := s.Deliver(ctx, false); err != nil && ctx.Err() == nil {
				s.log.Error("trail delivery failed; retried next round", "err", err)
			}
		}
	}
}

// Deliver delivers what every trail is owed now: the finished local log files after its
// cursor, and its digest when its period is over (or, with final, now: the server is
// shutting down, so the open period gets its digest and no delivered file waits for the next
// start). With final the open local log file is finished first. The errors of each trail are
// joined; one trail's failure does not hold up the others.
func (s *Service) Deliver(ctx context.Context, final bool) error {
	if s.cfg.Logs == nil {
		return nil
	}
	s.deliver.Lock()
	defer s.deliver.Unlock()
	if final {
		if err := s.cfg.Logs.Roll(ctx); err != nil {
			return fmt.Errorf("trail delivery: finishing the open log file: %w", err)
		}
	}
	trails, err := s.cfg.Store.List(ctx, "")
	if err != nil {
		return fmt.Errorf("trail delivery: %w", err)
	}
	var errs []error
	for _, t := range trails {
		errs = append(errs, s.deliverOwed(ctx, &t, final))
	}
	return errors.Join(errs...)
}

// deliverTrail delivers what t is owed now: its log files, and its digest when the period is
// over, t is closing, or forceDigest. The caller holds s.deliver.
func (s *Service) deliverTrail(ctx context.Context, t *Trail, forceDigest bool) error {
	if s.cfg.Logs == nil {
		return nil
	}
	files, err := s.cfg.Logs.LogFiles(s.delivery(t).Cursor)
	if err != nil {
		return fmt.Errorf("trail %s: listing log files: %w", t.ARN(), err)
	}
	for _, f := range files {
		if err := s.deliverLog(ctx, t, f); err != nil {
			s.noteError(ctx, t, false, err)
			return fmt.Errorf("trail %s: delivering %s: %w", t.ARN(), f.Name, err)
		}
	}
	d := s.delivery(t)
	due := forceDigest || d.Closing || !s.now().Before(d.PeriodStart.Add(s.cfg.DigestEvery))
	if !due {
		return nil
	}
	if !t.LogFileValidationEnabled || s.cfg.Signer == nil {
		return s.endPeriod(ctx, t, nil, s.now().UTC().Truncate(time.Second), len(d.Pending))
	}
	if err := s.writeDigest(ctx, t); err != nil {
		s.noteError(ctx, t, true, err)
		return fmt.Errorf("trail %s: digest: %w", t.ARN(), err)
	}
	return nil
}

// errRaced means the trail's delivery state changed under a delivery (another node's).
var errRaced = errors.New("trail: delivery state changed concurrently")

// deliverLog delivers the records of the local log file f that t selects, and advances t's
// cursor past f.
func (s *Service) deliverLog(ctx context.Context, t *Trail, f audit.LogFile) error {
	raws, err := audit.ReadLogFile(filepath.Join(s.cfg.Logs.Dir(), f.Name))
	if err != nil {
		return err
	}
	d := s.delivery(t)
	from, until := s.window(t)
	from = from.Truncate(time.Second)
	var picked []json.RawMessage
	var oldest, newest time.Time
	for _, raw := range raws {
		var r record
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("record of %s: %w", f.Name, err)
		}
		at, err := time.Parse(time.RFC3339, r.EventTime)
		if err != nil || r.RecipientAccountID != t.Account || at.Before(from) ||
			(d.Closing && at.After(until)) || !t.selects(&r, false) {
			continue
		}
		picked = append(picked, raw)
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
		if at.After(newest) {
			newest = at
		}
	}
	var delivered *DeliveredLog
	if len(picked) > 0 {
		body := recordsBody(picked)
		key := s.logKey(t, f.Name, newest)
		if err := s.put(ctx, t, key, body, nil); err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		delivered = &DeliveredLog{S3Bucket: t.S3BucketName, S3Object: key, SHA256: hex.EncodeToString(sum[:]), OldestEventTime: oldest, NewestEventTime: newest}
	}
	prev := d.Cursor
	now := s.now().UTC()
	updated, err := s.cfg.Store.Update(ctx, t.Account, t.Name, func(st *Trail) error {
		sd, ok := s.stored(st, t)
		if !ok || sd.Cursor != prev {
			return errRaced
		}
		sd.Cursor = f.Name
		if delivered != nil {
			st.Status.LatestDeliveryTime, st.Status.LatestDeliveryAttemptTime, st.Status.LatestDeliveryError = now, now, ""
			if st.LogFileValidationEnabled && !listed(sd.Pending, delivered.S3Object) {
				sd.Pending = append(sd.Pending, *delivered)
			}
		}
		s.setDelivery(st, sd)
		return nil
	})
	if err != nil {
		return err
	}
	*t = updated
	return nil
}

func listed(logs []DeliveredLog, key string) bool {
	for _, l := range logs {
		if l.S3Object == key {
			return true
		}
	}
	return false
}

// put writes a gzip of body at key in t's bucket as CloudTrail, with user metadata meta.
func (s *Service) put(ctx context.Context, t *Trail, key string, body []byte, meta map[string]string) error {
	gz := gzipBytes(body)
	_, err := s.cfg.Objects.PutObjectAsService(ctx, ServicePrincipal, serviceConditions(t), object.PutInput{
		Bucket: t.S3BucketName, Key: key, Body: bytes.NewReader(gz), Size: int64(len(gz)),
		Headers: map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, UserMeta: meta,
	})
	return err
}

// writeDigest signs and writes the digest of t's open period, and advances the chain.
func (s *Service) writeDigest(ctx context.Context, t *Trail) error {
	td := s.delivery(t)
	start := td.PeriodStart
	end := s.now().UTC().Truncate(time.Second)
	// Digest keys are to the second: two digests of one trail must never share one.
	for _, earlier := range []time.Time{start, td.LastDigestEnd} {
		if !end.After(earlier) {
			end = earlier.Add(time.Second)
		}
	}
	key := s.digestKey(t, end)
	d := &audit.Digest{AWSAccountID: t.Account, DigestStartTime: audit.FormatTime(start), DigestEndTime: audit.FormatTime(end),
		DigestS3Bucket: t.S3BucketName, DigestS3Object: key}
	pending := td.Pending
	for _, l := range pending {
		d.LogFiles = append(d.LogFiles, audit.DigestLogFile{S3Bucket: l.S3Bucket, S3Object: l.S3Object, HashValue: l.SHA256,
			HashAlgorithm: audit.HashAlgorithm, NewestEventTime: audit.FormatTime(l.NewestEventTime), OldestEventTime: audit.FormatTime(l.OldestEventTime)})
		if n := audit.FormatTime(l.NewestEventTime); d.NewestEventTime == nil || n > *d.NewestEventTime {
			d.NewestEventTime = &n
		}
		if o := audit.FormatTime(l.OldestEventTime); d.OldestEventTime == nil || o < *d.OldestEventTime {
			d.OldestEventTime = &o
		}
	}
	if p := td.Previous; p != nil {
		bucket, obj, sum, alg, sig := p.S3Bucket, p.S3Object, p.SHA256, audit.HashAlgorithm, p.Signature
		d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = &bucket, &obj
		d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = &sum, &alg, &sig
	}
	body, sig, err := audit.SignDigest(ctx, s.cfg.Signer, d)
	if err != nil {
		return err
	}
	if err := s.put(ctx, t, key, body, map[string]string{"signature": sig, "signature-algorithm": audit.SignatureAlgorithm}); err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	return s.endPeriod(ctx, t, &DigestLink{S3Bucket: t.S3BucketName, S3Object: key, SHA256: hex.EncodeToString(sum[:]), Signature: sig}, end, len(pending))
}

// endPeriod closes t's open digest period at end: the first used pending log files are now
// digested (by the digest link describes, nil when the trail signs no digests), and the chain
// continues from link, or ends when t was closing (StopLogging, DeleteTrail).
func (s *Service) endPeriod(ctx context.Context, t *Trail, link *DigestLink, end time.Time, used int) error {
	start := s.delivery(t).PeriodStart
	updated, err := s.cfg.Store.Update(ctx, t.Account, t.Name, func(st *Trail) error {
		sd, ok := s.stored(st, t)
		if !ok || !sd.PeriodStart.Equal(start) {
			return errRaced
		}
		sd.Pending = sd.Pending[min(used, len(sd.Pending)):]
		sd.PeriodStart, sd.Previous = end, link
		if link != nil {
			sd.LastDigestEnd = end
			st.Status.LatestDigestDeliveryTime, st.Status.LatestDigestDeliveryError = s.now().UTC(), ""
		}
		if sd.Closing {
			sd.Closing, sd.Previous = false, nil
		}
		s.setDelivery(st, sd)
		return nil
	})
	if err != nil {
		return err
	}
	*t = updated
	return nil
}

// noteError records a failed delivery in the trail's status, as GetTrailStatus reports it:
// the S3 error code where there is one (NoSuchBucket, AccessDenied), else InternalFailure.
func (s *Service) noteError(ctx context.Context, t *Trail, digest bool, cause error) {
	code := "InternalFailure"
	switch {
	case errors.Is(cause, object.ErrNoSuchBucket):
		code = "NoSuchBucket"
	case errors.Is(cause, object.ErrAccessDenied):
		code = "AccessDenied"
	}
	now := s.now().UTC()
	_, err := s.cfg.Store.Update(ctx, t.Account, t.Name, func(st *Trail) error {
		st.Status.LatestDeliveryAttemptTime = now
		if digest {
			st.Status.LatestDigestDeliveryError = code
		} else {
			st.Status.LatestDeliveryError = code
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrTrailNotFound) {
		s.log.Error("trail: recording a delivery error failed", "trail", t.ARN(), "err", err)
	}
}

// recordsBody is a log file's uncompressed bytes: {"Records":[...]} of the records, as given.
func recordsBody(records []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i, r := range records {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteString("]}")
	return b.Bytes()
}
