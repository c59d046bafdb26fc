package sse

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxPartNumber is the largest part number of a multipart upload (S3's limit).
const MaxPartNumber = 10000

// maxIdentityField is the longest Bucket, Key or UploadID: their lengths are encoded in 16 bits.
const maxIdentityField = 1<<16 - 1

// ErrInvalidIdentity is returned when an Identity breaks the rules of SPEC.md section 1. It is a
// caller error, not a sign of tampering.
var ErrInvalidIdentity = errors.New("sse: invalid identity")

// Identity names what a ciphertext belongs to. A stream or sealed key only decrypts under the
// identity it was made for.
type Identity struct {
	// Bucket is the bucket name; required.
	Bucket string
	// Key is the object key name; required.
	Key string
	// UploadID is the multipart upload id; empty for an object written by a single PUT.
	UploadID string
	// PartNumber is 1..MaxPartNumber for a part stream, 0 for a single-PUT object and for sealed keys.
	PartNumber int
}

// validate checks the rules of SPEC.md section 1.
func (id Identity) validate() error {
	switch {
	case id.Bucket == "" || id.Key == "":
		return fmt.Errorf("%w: bucket and key are required", ErrInvalidIdentity)
	case len(id.Bucket) > maxIdentityField || len(id.Key) > maxIdentityField || len(id.UploadID) > maxIdentityField:
		return fmt.Errorf("%w: field longer than %d bytes", ErrInvalidIdentity, maxIdentityField)
	case id.PartNumber < 0 || id.PartNumber > MaxPartNumber:
		return fmt.Errorf("%w: part number %d out of range", ErrInvalidIdentity, id.PartNumber)
	case id.PartNumber > 0 && id.UploadID == "":
		return fmt.Errorf("%w: a part needs an upload id", ErrInvalidIdentity)
	}
	return nil
}

// appendEncoding appends the canonical, injective encoding ID of SPEC.md section 1.
func (id Identity) appendEncoding(b []byte) []byte {
	for _, s := range [...]string{id.Bucket, id.Key, id.UploadID} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return binary.BigEndian.AppendUint16(b, uint16(id.PartNumber))
}
