// Package metarec is the stored form of package meta's records, shared by every backend that
// keeps them as opaque values (boltmeta under bbolt keys, pgmeta in bytea columns), so that a
// record means the same whatever store holds it and moves between stores unchanged.
package metarec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"
	"unicode/utf8"

	"github.com/coffer/coffer/internal/meta"
)

// V1 is the version byte every record starts with. Records are one version byte followed by a
// JSON document of the record types below. The record types, not the meta types, fix the stored
// field names, so meta can change its Go names without breaking stored data. A reader rejects
// versions it does not know; a change of shape that old readers would misread must use a new
// version byte.
//
// Bucket names, object keys, upload ids and part numbers are not in the records: they are the
// keys the store keeps the records under.
const V1 = 1

// ErrBadRecord is returned for a record that is damaged or of an unknown version.
var ErrBadRecord = errors.New("metarec: corrupt or unknown record")

type bucketRec struct {
	Region     string               `json:"r,omitempty"`
	Owner      string               `json:"o,omitempty"`
	Created    int64                `json:"c,omitempty"`
	Encryption *bucketEncryptionRec `json:"se,omitempty"`
	// Ownership is meta.Bucket.ObjectOwnership; absent in records written before it existed.
	Ownership string `json:"ow,omitempty"`
	// PublicAccess is absent in records written before it existed, and in records of buckets
	// without one. The bucket policy is stored beside the record (keyPolicy).
	PublicAccess *publicAccessBlockRec `json:"pab,omitempty"`
}

type objectRec struct {
	Size         int64             `json:"s"`
	ETag         string            `json:"e,omitempty"`
	LastModified int64             `json:"m,omitempty"`
	Owner        string            `json:"o,omitempty"`
	Headers      map[string]string `json:"h,omitempty"`
	UserMeta     map[string]string `json:"u,omitempty"`
	// HeaderBytes and UserMetaBytes hold the values that are not valid UTF-8 (see splitText).
	HeaderBytes   map[string][]byte `json:"hb,omitempty"`
	UserMetaBytes map[string][]byte `json:"ub,omitempty"`
	Checksums     map[string]string `json:"c,omitempty"`
	ChecksumType  string            `json:"ct,omitempty"`
	Parts         []partRec         `json:"p,omitempty"`
	PartsCount    int               `json:"pc,omitempty"`
	UploadID      string            `json:"up,omitempty"`
	// Encryption is absent in records of plaintext objects, including every record written
	// before encryption existed: those read as before.
	Encryption *encryptionRec `json:"x,omitempty"`
}

type uploadRec struct {
	Initiated         int64             `json:"i,omitempty"`
	Owner             string            `json:"o,omitempty"`
	Headers           map[string]string `json:"h,omitempty"`
	UserMeta          map[string]string `json:"u,omitempty"`
	HeaderBytes       map[string][]byte `json:"hb,omitempty"`
	UserMetaBytes     map[string][]byte `json:"ub,omitempty"`
	ChecksumAlgorithm string            `json:"ca,omitempty"`
	ChecksumType      string            `json:"ct,omitempty"`
	Encryption        *encryptionRec    `json:"x,omitempty"`
}

// splitText returns the values of m that JSON keeps as text and those it must keep as bytes.
// Header and metadata values that are not valid UTF-8 (a client may send Latin-1 bytes, as
// Python's http.client does) would come back from a JSON string as U+FFFD; as bytes they round
// trip exactly. Records written before the byte fields existed read unchanged.
func splitText(m map[string]string) (text map[string]string, raw map[string][]byte) {
	for k, v := range m {
		if utf8.ValidString(v) {
			if text == nil {
				text = make(map[string]string, len(m))
			}
			text[k] = v
			continue
		}
		if raw == nil {
			raw = map[string][]byte{}
		}
		raw[k] = []byte(v)
	}
	return text, raw
}

// joinText reverses splitText.
func joinText(text map[string]string, raw map[string][]byte) map[string]string {
	if len(raw) == 0 {
		return nilIfEmpty(text)
	}
	m := make(map[string]string, len(text)+len(raw))
	maps.Copy(m, text)
	for k, v := range raw {
		m[k] = string(v)
	}
	return m
}

type partRec struct {
	Number       int               `json:"n"`
	Blob         string            `json:"b"`
	Size         int64             `json:"s"`
	ETag         string            `json:"e,omitempty"`
	LastModified int64             `json:"m,omitempty"`
	Checksums    map[string]string `json:"c,omitempty"`
	// InlineLen is the length of the part's inline bytes, kept apart from the record (in the
	// bucket's "d" sub-bucket under the object key) so listings never read them.
	InlineLen int `json:"dl,omitempty"`
}

// encTime stores a time as Unix nanoseconds, 0 for the zero time. Times are kept in UTC, with
// full precision for years 1678 to 2262; the Unix epoch itself reads back as the zero time.
func encTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func decTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("metarec: encode: %w", err)
	}
	return append([]byte{V1}, b...), nil
}

func unmarshal(b []byte, v any) error {
	if len(b) < 1 || b[0] != V1 {
		return ErrBadRecord
	}
	if err := json.Unmarshal(b[1:], v); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	return nil
}

// EncodeBucket encodes a bucket's record. Name and Policy are not in it: the store keeps the
// name as the record's key and the policy document beside the record.
func EncodeBucket(b meta.Bucket) ([]byte, error) {
	return marshal(bucketRec{Region: b.Region, Owner: b.Owner, Created: encTime(b.Created), Ownership: b.ObjectOwnership,
		Encryption: toBucketEncryptionRec(b.Encryption), PublicAccess: toPublicAccessBlockRec(b.PublicAccessBlock)})
}

// DecodeBucket decodes the record of the bucket called name.
func DecodeBucket(name string, v []byte) (meta.Bucket, error) {
	var r bucketRec
	if err := unmarshal(v, &r); err != nil {
		return meta.Bucket{}, err
	}
	pab, err := fromPublicAccessBlockRec(r.PublicAccess)
	if err != nil {
		return meta.Bucket{}, err
	}
	return meta.Bucket{Name: name, Region: r.Region, Owner: r.Owner, Created: decTime(r.Created), ObjectOwnership: r.Ownership,
		Encryption: fromBucketEncryptionRec(r.Encryption), PublicAccessBlock: pab}, nil
}

func toPartRec(p meta.Part) partRec {
	return partRec{Number: p.Number, Blob: p.Blob, Size: p.Size, ETag: p.ETag,
		LastModified: encTime(p.LastModified), Checksums: p.Checksums}
}

func fromPartRec(r partRec) meta.Part {
	return meta.Part{Number: r.Number, Blob: r.Blob, Size: r.Size, ETag: r.ETag,
		LastModified: decTime(r.LastModified), Checksums: nilIfEmpty(r.Checksums)}
}

// EncodePart encodes a part record of an upload.
func EncodePart(p meta.Part) ([]byte, error) { return marshal(toPartRec(p)) }

// DecodePart decodes a part record.
func DecodePart(v []byte) (meta.Part, error) {
	var r partRec
	if err := unmarshal(v, &r); err != nil {
		return meta.Part{}, err
	}
	return fromPartRec(r), nil
}

// EncodeObject encodes o's record without its parts' inline bytes.
func EncodeObject(o meta.Object) ([]byte, error) {
	rec, _, err := EncodeObjectData(o)
	return rec, err
}

// EncodeObjectData encodes o's record and returns its parts' inline bytes, concatenated, apart.
func EncodeObjectData(o meta.Object) (rec, inline []byte, err error) {
	r := objectRec{Size: o.Size, ETag: o.ETag, LastModified: encTime(o.LastModified), Owner: o.Owner,
		Checksums: o.Checksums, ChecksumType: o.ChecksumType, PartsCount: o.PartsCount, UploadID: o.UploadID,
		Encryption: toEncryptionRec(o.Encryption)}
	r.Headers, r.HeaderBytes = splitText(o.Headers)
	r.UserMeta, r.UserMetaBytes = splitText(o.UserMeta)
	if len(o.Parts) > 0 {
		r.Parts = make([]partRec, len(o.Parts))
		for i, p := range o.Parts {
			r.Parts[i] = toPartRec(p)
			r.Parts[i].InlineLen = len(p.Inline)
			inline = append(inline, p.Inline...)
		}
	}
	rec, err = marshal(r)
	return rec, inline, err
}

// DecodeObject decodes an object record, leaving its parts' inline bytes nil.
func DecodeObject(bucket, key string, v []byte) (meta.Object, error) {
	return DecodeObjectData(bucket, key, v, nil)
}

// DecodeObjectData decodes an object record and, when data (the inline bytes kept apart from
// the record) is not nil, gives the parts their inline bytes, checking the lengths add up.
func DecodeObjectData(bucket, key string, v, data []byte) (meta.Object, error) {
	var r objectRec
	if err := unmarshal(v, &r); err != nil {
		return meta.Object{}, err
	}
	o := meta.Object{Bucket: bucket, Key: key, Size: r.Size, ETag: r.ETag,
		LastModified: decTime(r.LastModified), Owner: r.Owner,
		Headers:   joinText(r.Headers, r.HeaderBytes),
		UserMeta:  joinText(r.UserMeta, r.UserMetaBytes),
		Checksums: nilIfEmpty(r.Checksums), ChecksumType: r.ChecksumType, PartsCount: r.PartsCount,
		UploadID: r.UploadID}
	enc, err := fromEncryptionRec(r.Encryption)
	if err != nil {
		return meta.Object{}, err
	}
	o.Encryption = enc
	if len(r.Parts) > 0 {
		o.Parts = make([]meta.Part, len(r.Parts))
		off := 0
		for i, p := range r.Parts {
			o.Parts[i] = fromPartRec(p)
			if data == nil || p.InlineLen == 0 {
				continue
			}
			if p.InlineLen < 0 || off+p.InlineLen > len(data) {
				return meta.Object{}, fmt.Errorf("%w: inline bytes shorter than the record says", ErrBadRecord)
			}
			o.Parts[i].Inline = bytes.Clone(data[off : off+p.InlineLen])
			off += p.InlineLen
		}
		if data != nil && off != len(data) {
			return meta.Object{}, fmt.Errorf("%w: inline bytes longer than the record says", ErrBadRecord)
		}
	}
	return o, nil
}

// EncodeUpload encodes an upload record.
func EncodeUpload(u meta.Upload) ([]byte, error) {
	r := uploadRec{Initiated: encTime(u.Initiated), Owner: u.Owner,
		ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: u.ChecksumType, Encryption: toEncryptionRec(u.Encryption)}
	r.Headers, r.HeaderBytes = splitText(u.Headers)
	r.UserMeta, r.UserMetaBytes = splitText(u.UserMeta)
	return marshal(r)
}

// DecodeUpload decodes the record of upload id of key in bucket.
func DecodeUpload(bucket, key, id string, v []byte) (meta.Upload, error) {
	var r uploadRec
	if err := unmarshal(v, &r); err != nil {
		return meta.Upload{}, err
	}
	enc, err := fromEncryptionRec(r.Encryption)
	if err != nil {
		return meta.Upload{}, err
	}
	return meta.Upload{Bucket: bucket, Key: key, UploadID: id, Initiated: decTime(r.Initiated),
		Owner: r.Owner, Headers: joinText(r.Headers, r.HeaderBytes),
		UserMeta: joinText(r.UserMeta, r.UserMetaBytes), ChecksumAlgorithm: r.ChecksumAlgorithm, ChecksumType: r.ChecksumType,
		Encryption: enc}, nil
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
