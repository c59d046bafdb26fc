package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Kinds of Verify findings.
const (
	FindingModified       = "modified"        // a listed log file whose hash no longer matches
	FindingDeleted        = "deleted"         // a listed log file that is gone
	FindingUnexpected     = "unexpected"      // a log file no digest lists, older than the newest digest
	FindingDigestDeleted  = "digest-deleted"  // a digest the next one chains to is gone
	FindingDigestModified = "digest-modified" // a digest replaced, moved or unreadable
	FindingBadSignature   = "bad-signature"   // a digest whose signature does not verify, or is missing
	FindingUnknownKey     = "unknown-key"     // a digest signed by a key that is not published
	FindingBrokenLink     = "broken-link"     // a chain link that names no digest of the local chain
)

// Report is what Verify found.
type Report struct {
	Findings []Finding
	Valid    []string // log files whose hash matches their digest's
	LogFiles int      // log files checked
	Digests  int      // digests checked
}

// Finding is one problem Verify found.
type Finding struct {
	Kind   string
	File   string // path relative to the audit directory
	Detail string
}

// String is the finding on one line: a file name or a detail holding anything but printable
// characters (a digest may name any path) is quoted with escapes, so no finding can forge
// another line of a report.
func (f Finding) String() string {
	return f.Kind + ": " + Printable(f.File) + ": " + Printable(f.Detail)
}

// Printable returns v as it is when it holds only printable characters, else quoted with Go
// escapes: how a value someone else chose (a path in a digest, an object key in a record) is
// shown on a terminal or in a line-based report.
func Printable(v string) string {
	if strings.ContainsFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.QuoteToGraphic(v)
	}
	return v
}

type digestRead struct {
	sum [sha256.Size]byte // of the uncompressed digest (the body itself is not kept)
	d   *Digest
	sig string
	end time.Time
	err error
}

// verifier walks a local chain.
type verifier struct {
	dir      string
	from, to time.Time
	keys     map[string]PublicKey
	digests  map[string]*digestRead
	visited  map[string]bool
	listed   map[string]bool
	rep      Report
}

// Verify walks the digest chain of the audit directory dir offline (it needs only dir, and
// works on a copy): every digest's signature against the published public keys, every link
// between digests, every log file the digests list, and log files no digest lists. Digests
// whose period meets [from, to] (zero: unbounded) are checked. It reports every finding,
// never stopping at the first; its error is for a directory it cannot read at all.
func Verify(dir string, from, to time.Time) (*Report, error) {
	return VerifyTrusting(dir, from, to, nil)
}

// VerifyTrusting is Verify trusting only the signing keys whose fingerprints are in trusted
// (those ListPublicKeys publishes, say); nil trusts every key published under dir/keys. A
// digest signed by any other key is an unknown-key finding: someone who could write dir
// planted its key.
func VerifyTrusting(dir string, from, to time.Time, trusted []string) (*Report, error) {
	keys, err := PublicKeys(dir)
	if err != nil {
		return nil, err
	}
	if trusted != nil {
		keys = slices.DeleteFunc(keys, func(k PublicKey) bool { return !slices.Contains(trusted, k.Fingerprint) })
	}
	names, err := listDigests(dir)
	if err != nil {
		return nil, err
	}
	v := &verifier{dir: dir, from: from, to: to, keys: map[string]PublicKey{}, digests: map[string]*digestRead{},
		visited: map[string]bool{}, listed: map[string]bool{}}
	for _, k := range keys {
		v.keys[k.Fingerprint] = k
	}
	var newestEnd time.Time
	for _, n := range names {
		r := &digestRead{}
		var body []byte
		body, r.d, r.sig, r.err = readDigest(dir, n)
		r.sum = sha256.Sum256(body)
		r.end, _ = digestEnd(n)
		v.digests[n] = r
		newestEnd = r.end
	}
	// Each digest not reached from a newer one heads a chain, checked with the signature
	// stored beside it: the newest digest, and the older part of a chain cut by a deleted
	// or replaced digest, or an earlier chain ended by a starting digest.
	for i := len(names) - 1; i >= 0; i-- {
		if !v.visited[names[i]] {
			v.walk(names[i])
		}
	}
	v.unlisted(newestEnd)
	return &v.rep, nil
}

// inRange reports whether a period [start, end] meets the range checked.
func (v *verifier) inRange(start, end time.Time) bool {
	return (v.from.IsZero() || !end.Before(v.from)) && (v.to.IsZero() || !start.After(v.to))
}

func (v *verifier) find(kind, file, format string, args ...any) {
	v.rep.Findings = append(v.rep.Findings, Finding{Kind: kind, File: file, Detail: fmt.Sprintf(format, args...)})
}

// walk checks the chain from the digest name back to its starting digest.
func (v *verifier) walk(name string) {
	r := v.digests[name]
	sig, sigFrom := r.sig, "its signature file"
	for {
		v.visited[name] = true
		check := v.inRange(r.end, r.end)
		if r.err == nil {
			start, _ := time.Parse(time.RFC3339, r.d.DigestStartTime)
			check = v.inRange(start, r.end)
		}
		if r.err != nil {
			if check {
				v.find(FindingDigestModified, name, "cannot be read: %v", r.err)
			}
			return
		}
		d := r.d
		if check {
			v.rep.Digests++
			v.checkDigest(name, r, sig, sigFrom)
			v.checkLogs(name, d)
		} else {
			v.markListed(d)
		}
		if d.PreviousDigestS3Object == nil {
			return // a starting digest
		}
		prev := *d.PreviousDigestS3Object
		pr, ok := v.digests[prev]
		switch {
		case d.PreviousDigestS3Bucket == nil || *d.PreviousDigestS3Bucket != LocalBucket || !ok && !localDigestName(prev):
			if check {
				v.find(FindingBrokenLink, name, "its previous digest %q is not one of the local chain", prev)
			}
			return
		case !ok:
			if check {
				v.find(FindingDigestDeleted, prev, "deleted: %s chains to it", name)
			}
			return
		case v.visited[prev]:
			if check {
				v.find(FindingBrokenLink, name, "its previous digest %s is already part of a newer chain", prev)
			}
			return
		}
		inPrev := v.inRange(pr.end, pr.end) || check
		if pr.err == nil && d.PreviousDigestHashValue != nil {
			if hex.EncodeToString(pr.sum[:]) != *d.PreviousDigestHashValue && inPrev {
				v.find(FindingDigestModified, prev, "replaced: its SHA-256 is not the previousDigestHashValue of %s", name)
			}
		}
		sig, sigFrom = "", "the previousDigestSignature of "+name
		if d.PreviousDigestSignature != nil {
			sig = *d.PreviousDigestSignature
		}
		if pr.sig != "" && sig != "" && pr.sig != sig && inPrev {
			v.find(FindingDigestModified, prev, "its signature file differs from the previousDigestSignature of %s", name)
		}
		name, r = prev, pr
	}
}

// localDigestName reports whether name has the shape of a local digest's path.
func localDigestName(name string) bool {
	_, ok := digestEnd(name)
	return ok && strings.HasPrefix(name, digestsDir+"/") && path.Clean(name) == name
}

// checkDigest checks where a digest says it is and its signature.
func (v *verifier) checkDigest(name string, r *digestRead, sig, sigFrom string) {
	d := r.d
	if d.DigestS3Bucket != LocalBucket || d.DigestS3Object != name {
		v.find(FindingDigestModified, name, "it names itself %s/%s: moved or replaced", d.DigestS3Bucket, d.DigestS3Object)
	}
	if sig == "" {
		v.find(FindingBadSignature, name, "no signature (from %s)", sigFrom)
		return
	}
	key, ok := v.keys[d.DigestPublicKeyFingerprint]
	if !ok {
		v.find(FindingUnknownKey, name, "signed by key %q, which is not published under keys/ (or not trusted)", d.DigestPublicKeyFingerprint)
		return
	}
	if err := verifySignature(key.DER, StringToSign(d, r.sum[:]), sig); err != nil {
		v.find(FindingBadSignature, name, "the signature (from %s) does not verify: %v", sigFrom, err)
	}
}

func (v *verifier) markListed(d *Digest) {
	for _, lf := range d.LogFiles {
		v.listed[lf.S3Object] = true
	}
}

// checkLogs checks each log file a digest lists.
func (v *verifier) checkLogs(name string, d *Digest) {
	for _, lf := range d.LogFiles {
		v.listed[lf.S3Object] = true
		v.rep.LogFiles++
		obj := lf.S3Object
		if lf.S3Bucket != LocalBucket || !strings.HasPrefix(obj, logsDir+"/") || path.Clean(obj) != obj {
			v.find(FindingModified, name, "lists %s/%s, outside the local logs", lf.S3Bucket, obj)
			continue
		}
		sum, err := hashGzipFile(filepath.Join(v.dir, filepath.FromSlash(obj)), maxLogBody)
		if errors.Is(err, os.ErrNotExist) {
			v.find(FindingDeleted, obj, "listed in %s, but gone", name)
			continue
		}
		if err != nil {
			v.find(FindingModified, obj, "cannot be read: %s", strings.ReplaceAll(err.Error(), v.dir+string(filepath.Separator), ""))
			continue
		}
		want, err := hex.DecodeString(lf.HashValue)
		if err != nil || !bytes.Equal(sum, want) {
			v.find(FindingModified, obj, "its SHA-256 is not the one %s lists", name)
			continue
		}
		v.rep.Valid = append(v.rep.Valid, obj)
	}
}

// unlisted reports the log files no digest lists that started before the newest digest's
// end: every log file is finished before the digest of its period, so such a file was put
// there afterwards.
func (v *verifier) unlisted(newestEnd time.Time) {
	logs, err := listFiles(v.dir, logsDir, func(string) bool { return true })
	if err != nil {
		v.find(FindingUnexpected, logsDir, "cannot be listed: %v", err)
		return
	}
	for _, n := range logs {
		if v.listed[n] {
			continue
		}
		start, err := logStart(n)
		if err != nil {
			v.find(FindingUnexpected, n, "not a log file name, and listed in no digest")
			continue
		}
		if start.Before(newestEnd) && v.inRange(start, start) {
			v.find(FindingUnexpected, n, "listed in no digest, though it started before the newest digest's end")
		}
	}
}
