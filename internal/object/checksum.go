package object

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"strings"
)

// Checksum algorithms as S3 names them.
const (
	CRC32     = "CRC32"
	CRC32C    = "CRC32C"
	CRC64NVME = "CRC64NVME"
	SHA1      = "SHA1"
	SHA256    = "SHA256"
)

// Checksum types of multipart objects.
const (
	FullObject = "FULL_OBJECT"
	Composite  = "COMPOSITE"
)

// crc64NVME is the reflected form of the CRC-64/NVME polynomial 0xAD93D23594C93659; Go's
// crc64 applies the all-ones init and final xor that the NVMe definition asks for.
var crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Algorithms lists the supported checksum algorithms.
var Algorithms = []string{CRC32, CRC32C, CRC64NVME, SHA1, SHA256}

// NormalizeAlgorithm returns the canonical name of alg (case-insensitive), or "" if unknown.
func NormalizeAlgorithm(alg string) string {
	u := strings.ToUpper(alg)
	for _, a := range Algorithms {
		if a == u {
			return a
		}
	}
	return ""
}

// newHash returns a fresh hash for a known algorithm.
func newHash(alg string) hash.Hash {
	switch alg {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(castagnoli)
	case CRC64NVME:
		return crc64.New(crc64NVMETable)
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	}
	return nil
}

// digestLen is the raw length of alg's digest.
func digestLen(alg string) int {
	switch alg {
	case CRC32, CRC32C:
		return 4
	case CRC64NVME:
		return 8
	case SHA1:
		return 20
	case SHA256:
		return 32
	}
	return 0
}

// ValidChecksumValue reports whether v is a base64 digest of the right length for alg.
func ValidChecksumValue(alg, v string) bool {
	raw, err := base64.StdEncoding.DecodeString(v)
	return err == nil && len(raw) == digestLen(alg)
}

// CompositeChecksum returns the checksum of the concatenated raw part checksums, suffixed
// with "-N", as S3 reports for COMPOSITE multipart objects.
func CompositeChecksum(alg string, partValues []string) (string, bool) {
	h := newHash(alg)
	if h == nil {
		return "", false
	}
	for _, v := range partValues {
		raw, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(raw) != digestLen(alg) {
			return "", false
		}
		h.Write(raw)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)) + "-" + itoa(len(partValues)), true
}

// Expect names what a body must hash to: Content-MD5 and at most one flexible checksum, the
// value of which may arrive only after the body (a trailer).
type Expect struct {
	ContentMD5 []byte // raw 16 bytes, nil if not given
	Algorithm  string // canonical name, "" if none
	Value      string // base64 value, "" if it comes from Trailer or is to be computed only
	// Trailer returns the trailing value once the body has been read to its end.
	Trailer func() (string, bool)
}

// DigestError is a body that does not hash to the digest the client sent: ErrBadDigest, with
// the digest that differed (ContentMD5, or a checksum algorithm such as CRC32).
type DigestError struct{ Digest string }

// ContentMD5 names the Content-MD5 digest in a DigestError.
const ContentMD5 = "Content-MD5"

func (e *DigestError) Error() string { return "object: " + e.Digest + " does not match the data" }

// Unwrap makes errors.Is(err, ErrBadDigest) hold.
func (e *DigestError) Unwrap() error { return ErrBadDigest }

// digester hashes a body as it streams: always MD5 (the ETag), plus the flexible checksum.
type digester struct {
	md5 hash.Hash
	alg string
	sum hash.Hash
}

func newDigester(alg string) *digester {
	d := &digester{md5: md5.New(), alg: alg}
	if alg != "" {
		d.sum = newHash(alg)
	}
	return d
}

func (d *digester) Write(p []byte) (int, error) {
	d.md5.Write(p)
	if d.sum != nil {
		d.sum.Write(p)
	}
	return len(p), nil
}

// check compares the sums with what e expects, returning the stored checksums.
func (d *digester) check(e Expect) (md5sum []byte, checksums map[string]string, err error) {
	md5sum = d.md5.Sum(nil)
	if e.ContentMD5 != nil && subtle.ConstantTimeCompare(md5sum, e.ContentMD5) != 1 {
		return nil, nil, &DigestError{ContentMD5}
	}
	if d.sum == nil {
		return md5sum, nil, nil
	}
	got := base64.StdEncoding.EncodeToString(d.sum.Sum(nil))
	want := e.Value
	if want == "" && e.Trailer != nil {
		v, ok := e.Trailer()
		if !ok {
			return nil, nil, ErrInvalidChecksum
		}
		want = v
	}
	if want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return nil, nil, &DigestError{d.alg}
	}
	return md5sum, map[string]string{d.alg: got}, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// VerifyBytes reads r to its end and checks it against e, for small bodies read whole.
func VerifyBytes(r io.Reader, e Expect) error {
	d := newDigester(e.Algorithm)
	if _, err := io.Copy(d, r); err != nil {
		return err
	}
	_, _, err := d.check(e)
	return err
}
