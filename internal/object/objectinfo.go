package object

import (
	"time"

	"github.com/coffer/coffer/internal/meta"
)

// Object is an object's metadata as the wire layer renders it. The stored record, with its
// sealed key material, stays inside: only the service reads it (Open, CheckCustomerKey), so
// the wire layer cannot render a sealed key or an SSE-C key proof by mistake.
type Object struct {
	Bucket       string
	Key          string
	Size         int64  // plaintext length in bytes
	ETag         string // without quotes
	LastModified time.Time
	Owner        string
	// Headers holds the stored standard headers under their canonical names: Content-Type,
	// Content-Encoding, Content-Disposition, Content-Language, Cache-Control, Expires.
	Headers map[string]string
	// UserMeta holds x-amz-meta-* values keyed by the lower-case suffix after "x-amz-meta-".
	UserMeta map[string]string
	// Checksums maps an algorithm (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) to its base64 value.
	Checksums    map[string]string
	ChecksumType string // FULL_OBJECT or COMPOSITE; "" when there is no checksum
	// Parts lists the object's runs of bytes in order. A single PUT has one part, numbered 0.
	Parts []Part
	// PartsCount is the number of parts of a multipart object, 0 for a single PUT.
	PartsCount int
	// Encryption says how the object is encrypted; nil for plaintext written before
	// encryption existed.
	Encryption *Encryption

	rec meta.Object
}

// Part is a part of a multipart upload, or one run of an object's bytes.
type Part struct {
	Number       int
	Size         int64
	ETag         string // without quotes
	LastModified time.Time
	Checksums    map[string]string
}

// Upload is an in-progress multipart upload as the wire layer renders it; like Object, it
// keeps its stored record, sealed key included, to itself.
type Upload struct {
	Bucket            string
	Key               string
	UploadID          string
	Initiated         time.Time
	Owner             string
	Headers           map[string]string // as Object.Headers, applied on completion
	UserMeta          map[string]string
	ChecksumAlgorithm string // algorithm named at creation, "" if none
	ChecksumType      string
	// Encryption is fixed at creation; every part is encrypted under its key.
	Encryption *Encryption

	rec meta.Upload
}

// Encryption is what S3 reports of an object's or upload's encryption: never key material.
type Encryption struct {
	Algorithm string // SSES3, SSEKMS, SSEKMSDSSE or SSEC
	// KMSKeyARN and Context belong to the KMS modes: the key that wraps the data key, and the
	// encryption context the client gave (without the aws:s3:arn pair S3 adds).
	KMSKeyARN        string
	Context          map[string]string
	BucketKeyEnabled bool // an SSE-KMS object whose key derives from a bucket key
}

// ListOptions selects a page of uploads.
type ListOptions struct {
	Prefix string // only keys starting with Prefix
	After  string // only keys strictly greater than After (byte order)
	Limit  int    // at most Limit entries; <= 0 means no limit
}

// objectOf is the wire layer's view of a stored object.
func objectOf(o meta.Object) Object {
	return Object{Bucket: o.Bucket, Key: o.Key, Size: o.Size, ETag: o.ETag, LastModified: o.LastModified,
		Owner: o.Owner, Headers: o.Headers, UserMeta: o.UserMeta, Checksums: o.Checksums,
		ChecksumType: o.ChecksumType, Parts: partsOf(o.Parts), PartsCount: o.PartsCount,
		Encryption: encryptionOf(o.Encryption), rec: o}
}

// uploadOf is the wire layer's view of a stored upload.
func uploadOf(u meta.Upload) Upload {
	return Upload{Bucket: u.Bucket, Key: u.Key, UploadID: u.UploadID, Initiated: u.Initiated,
		Owner: u.Owner, Headers: u.Headers, UserMeta: u.UserMeta, ChecksumAlgorithm: u.ChecksumAlgorithm,
		ChecksumType: u.ChecksumType, Encryption: encryptionOf(u.Encryption), rec: u}
}

// partOf is the wire layer's view of a stored part: no blob name, no inline bytes.
func partOf(p meta.Part) Part {
	return Part{Number: p.Number, Size: p.Size, ETag: p.ETag, LastModified: p.LastModified, Checksums: p.Checksums}
}

func partsOf(ps []meta.Part) []Part {
	out := make([]Part, len(ps))
	for i, p := range ps {
		out[i] = partOf(p)
	}
	return out
}

func uploadsOf(us []meta.Upload) []Upload {
	out := make([]Upload, len(us))
	for i, u := range us {
		out[i] = uploadOf(u)
	}
	return out
}

// encryptionOf reads what S3 reports from an encryption record (nil stays nil).
func encryptionOf(e *meta.Encryption) *Encryption {
	if e == nil {
		return nil
	}
	return &Encryption{Algorithm: e.Algorithm, KMSKeyARN: e.KMSKeyARN, Context: e.Context, BucketKeyEnabled: e.BucketKey != ""}
}

// view is what the wire layer sees of a stored record rec read with error err: of(rec), or
// the zero view and err.
func view[R, V any](rec R, err error, of func(R) V) (V, error) {
	if err != nil {
		var zero V
		return zero, err
	}
	return of(rec), nil
}
