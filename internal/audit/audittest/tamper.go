package audittest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/audit"
)

// Tamper is one way to tamper with a built chain, and the finding Verify must report.
type Tamper struct {
	Name  string
	Kind  string                                       // the Finding.Kind expected
	Apply func(t testing.TB, dir string) (file string) // tampers with dir; returns the file the finding names
}

// Tampers are the tamper cases every verifier of the local chain must detect.
func Tampers() []Tamper {
	return []Tamper{
		{"a byte changed in a log file", audit.FindingModified, func(t testing.TB, dir string) string {
			f := Files(t, dir, "logs", ".json.gz")[1]
			b := Gunzip(t, filepath.Join(dir, f))
			b = bytes.Replace(b, []byte(`"Decrypt"`), []byte(`"Encrypt"`), 1)
			WriteGzip(t, filepath.Join(dir, f), b)
			return f
		}},
		{"a compressed byte flipped in a log file", audit.FindingModified, func(t testing.TB, dir string) string {
			f := Files(t, dir, "logs", ".json.gz")[0]
			p := filepath.Join(dir, f)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0x01
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return f
		}},
		{"a log file deleted", audit.FindingDeleted, func(t testing.TB, dir string) string {
			f := Files(t, dir, "logs", ".json.gz")[2]
			remove(t, dir, f)
			return f
		}},
		{"records reordered inside a log file", audit.FindingModified, func(t testing.TB, dir string) string {
			f := Files(t, dir, "logs", ".json.gz")[0]
			var v struct{ Records []json.RawMessage }
			if err := json.Unmarshal(Gunzip(t, filepath.Join(dir, f)), &v); err != nil {
				t.Fatal(err)
			}
			v.Records[0], v.Records[1] = v.Records[1], v.Records[0]
			b, _ := json.Marshal(v)
			WriteGzip(t, filepath.Join(dir, f), b)
			return f
		}},
		{"a digest deleted", audit.FindingDigestDeleted, func(t testing.TB, dir string) string {
			f := Files(t, dir, "digests", ".json.gz")[1]
			remove(t, dir, f)
			remove(t, dir, f+".sig")
			return f
		}},
		{"a digest replaced", audit.FindingDigestModified, func(t testing.TB, dir string) string {
			f := Files(t, dir, "digests", ".json.gz")[1]
			d := readDigest(t, dir, f)
			d.LogFiles = d.LogFiles[:len(d.LogFiles)-1] // hide a log file
			resign(t, dir, f, d, true)
			return f
		}},
		{"the newest digest signed with another key", audit.FindingUnknownKey, func(t testing.TB, dir string) string {
			ds := Files(t, dir, "digests", ".json.gz")
			f := ds[len(ds)-1]
			resign(t, dir, f, readDigest(t, dir, f), false)
			return f
		}},
		{"the newest digest signed with another key under the chain's fingerprint", audit.FindingBadSignature, func(t testing.TB, dir string) string {
			ds := Files(t, dir, "digests", ".json.gz")
			f := ds[len(ds)-1]
			resign(t, dir, f, readDigest(t, dir, f), true)
			return f
		}},
		{"the newest digest's signature file changed", audit.FindingBadSignature, func(t testing.TB, dir string) string {
			ds := Files(t, dir, "digests", ".json.gz")
			f := ds[len(ds)-1]
			p := filepath.Join(dir, f+".sig")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			c := byte('0')
			if b[0] == '0' {
				c = '1'
			}
			b[0] = c
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return f
		}},
		{"an extra log file", audit.FindingUnexpected, func(t testing.TB, dir string) string {
			logs := Files(t, dir, "logs", ".json.gz")
			src := logs[1]
			// Named as if written a nanosecond after the second log file.
			i := strings.LastIndexByte(src, '_')
			ns, err := strconv.ParseUint(strings.TrimSuffix(src[i+1:], ".json.gz"), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			dst := fmt.Sprintf("%s%016x.json.gz", src[:i+1], ns+1)
			b, err := os.ReadFile(filepath.Join(dir, src))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, dst), b, 0o600); err != nil {
				t.Fatal(err)
			}
			return dst
		}},
	}
}

func remove(t testing.TB, dir, f string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, f)); err != nil {
		t.Fatal(err)
	}
}

func readDigest(t testing.TB, dir, f string) *audit.Digest {
	t.Helper()
	d := new(audit.Digest)
	if err := json.Unmarshal(Gunzip(t, filepath.Join(dir, f)), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// resign signs d with a key that is not the chain's and writes it over the digest f, with
// its signature beside it; claimFingerprint keeps the chain key's fingerprint in d.
func resign(t testing.TB, dir, f string, d *audit.Digest, claimFingerprint bool) {
	t.Helper()
	fp := d.DigestPublicKeyFingerprint
	s := audit.NewRSASigner(otherKey(), time.Time{})
	body, sig, err := audit.SignDigest(context.Background(), s, d)
	if err != nil {
		t.Fatal(err)
	}
	if claimFingerprint {
		d.DigestPublicKeyFingerprint = fp
		if body, sig, err = signAs(s, d); err != nil {
			t.Fatal(err)
		}
	}
	WriteGzip(t, filepath.Join(dir, f), body)
	if err := os.WriteFile(filepath.Join(dir, f+".sig"), []byte(sig+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// signAs signs d with s while keeping d's fingerprint (SignDigest would set s's).
func signAs(s audit.Signer, d *audit.Digest) ([]byte, string, error) {
	return audit.SignDigest(context.Background(), fingerprintAs{s, d.DigestPublicKeyFingerprint}, d)
}

type fingerprintAs struct {
	audit.Signer
	fp string
}

func (f fingerprintAs) PublicKey() audit.PublicKey {
	p := f.Signer.PublicKey()
	p.Fingerprint = f.fp
	return p
}

// PlantKey publishes a key that is not the chain's under dir/keys, valid from before the
// chain began (so a server would go on signing with its own), and re-signs the newest
// digest with it: what someone who can write dir, but not seal with the KMS, can do. It
// returns the digest re-signed; only a verifier that does not trust every key under keys/
// finds it (an unknown-key finding).
func PlantKey(t testing.TB, dir string) (file string) {
	t.Helper()
	s := audit.NewRSASigner(otherKey(), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	pub := s.PublicKey()
	meta, err := json.Marshal(map[string]any{"fingerprint": pub.Fingerprint, "validFrom": pub.ValidFrom})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{pub.Fingerprint + ".pub.der": pub.DER, pub.Fingerprint + ".json": meta} {
		if err := os.WriteFile(filepath.Join(dir, "keys", name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ds := Files(t, dir, "digests", ".json.gz")
	file = ds[len(ds)-1]
	resign(t, dir, file, readDigest(t, dir, file), false)
	return file
}
