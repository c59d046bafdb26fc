package meta

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"maps"
)

// SSE algorithms, as S3 names them in x-amz-server-side-encryption.
const (
	SSES3      = "AES256"       // SSE-S3: object key sealed under the service key
	SSEKMS     = "aws:kms"      // SSE-KMS (later)
	SSEKMSDSSE = "aws:kms:dsse" // DSSE-KMS (later)
	SSEC       = "SSE-C"        // customer-provided key (later)
)

// Encryption is the encryption record of an object or upload: what, with the key service,
// opens its bytes. A nil *Encryption means the bytes are plaintext (objects written before
// encryption existed); every new write has one.
type Encryption struct {
	// Algorithm is one of SSES3, SSEKMS, SSEKMSDSSE, SSEC.
	Algorithm string
	// SealedKey is the per-object key in sealed form. For SSE-S3 it is a KMS blob of the
	// service-owned key, which names the key version it was made with.
	SealedKey Sealed
	// KMSKeyARN and Context belong to the KMS modes: the key that wraps the data key, and the
	// encryption context the client gave (without the aws:s3:arn pair S3 adds).
	KMSKeyARN string
	Context   map[string]string
	// WrappedKey is the KMS-wrapped data key of the KMS modes.
	WrappedKey Sealed
	// BucketKey names the bucket key an SSE-KMS object's key derives from ("" for none).
	BucketKey string
	// An SSE-C object's key check (a salted HMAC of the customer key) is part of its
	// SealedKey (internal/sse SPEC.md 3.2), so the record needs no field of its own.
}

// BucketEncryption is a bucket's explicit default-encryption configuration. A bucket without
// one (nil) uses SSE-S3, as S3 does since 2023.
type BucketEncryption struct {
	Algorithm              string // SSES3, SSEKMS or SSEKMSDSSE
	KMSMasterKeyID         string // as the client gave it; only for the KMS algorithms
	BucketKeyEnabled       bool
	BlockedEncryptionTypes []string // NONE, SSE-C
}

// Sealed is key material in sealed (encrypted) form. It is not secret in the way a plaintext
// key is, yet it has no business on the wire or in logs: it prints and marshals as
// "SEALED", so a wire layer cannot render it by mistake. Stores read it with []byte(s).
type Sealed []byte

const sealedText = "SEALED"

// String returns "SEALED".
func (Sealed) String() string { return sealedText }

// GoString returns "SEALED", also for %#v.
func (Sealed) GoString() string { return sealedText }

// Format writes "SEALED" for every verb.
func (Sealed) Format(f fmt.State, _ rune) { io.WriteString(f, sealedText) }

// LogValue makes log/slog print "SEALED".
func (Sealed) LogValue() slog.Value { return slog.StringValue(sealedText) }

// MarshalText returns "SEALED"; it also covers encoding/xml.
func (Sealed) MarshalText() ([]byte, error) { return []byte(sealedText), nil }

// MarshalJSON returns the JSON string "SEALED".
func (Sealed) MarshalJSON() ([]byte, error) { return []byte(`"` + sealedText + `"`), nil }

// Equal reports whether e and f are the same record, sealed material included. Every write
// seals a fresh object key, so equal records of one object mean one write.
func (e *Encryption) Equal(f *Encryption) bool {
	if e == nil || f == nil {
		return e == f
	}
	return e.Algorithm == f.Algorithm && bytes.Equal(e.SealedKey, f.SealedKey) &&
		e.KMSKeyARN == f.KMSKeyARN && maps.Equal(e.Context, f.Context) &&
		bytes.Equal(e.WrappedKey, f.WrappedKey) && e.BucketKey == f.BucketKey
}

// SameWrite reports whether a and b are records of the same write of one object: the same
// bytes (parts, blobs, inline data, ETag) under the same encryption record. Other fields may
// differ, so a conditional update keyed on it lets metadata-only changes through.
func SameWrite(a, b Object) bool {
	if a.Bucket != b.Bucket || a.Key != b.Key || a.ETag != b.ETag || a.Size != b.Size ||
		a.UploadID != b.UploadID || len(a.Parts) != len(b.Parts) || !a.Encryption.Equal(b.Encryption) {
		return false
	}
	for i, p := range a.Parts {
		q := b.Parts[i]
		if p.Number != q.Number || p.Blob != q.Blob || p.Size != q.Size || p.ETag != q.ETag ||
			!bytes.Equal(p.Inline, q.Inline) {
			return false
		}
	}
	return true
}
