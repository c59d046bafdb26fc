package metarec

import (
	"fmt"

	"github.com/coffer/coffer/internal/meta"
)

// encryptionRecV1 is the version of the encryption record's own shape. A record of a version
// this reader does not know is refused rather than misread (a newer writer may have moved a
// key elsewhere); records without the field are plaintext objects from before encryption.
const encryptionRecV1 = 1

// encryptionRec is the stored form of meta.Encryption, inside an object or upload record.
type encryptionRec struct {
	Version    int               `json:"v"`
	Algorithm  string            `json:"a"`
	SealedKey  []byte            `json:"k,omitempty"`
	KMSKeyARN  string            `json:"kms,omitempty"`
	Context    map[string]string `json:"ctx,omitempty"`
	WrappedKey []byte            `json:"wk,omitempty"`
	BucketKey  string            `json:"bk,omitempty"`
	// "kp" was once reserved for an SSE-C key proof and never written: the proof is part of
	// the sealed key (internal/sse SPEC.md 3.2). Readers ignore it; do not reuse the name.
}

func toEncryptionRec(e *meta.Encryption) *encryptionRec {
	if e == nil {
		return nil
	}
	return &encryptionRec{Version: encryptionRecV1, Algorithm: e.Algorithm, SealedKey: []byte(e.SealedKey),
		KMSKeyARN: e.KMSKeyARN, Context: e.Context, WrappedKey: []byte(e.WrappedKey), BucketKey: e.BucketKey}
}

func fromEncryptionRec(r *encryptionRec) (*meta.Encryption, error) {
	if r == nil {
		return nil, nil
	}
	if r.Version != encryptionRecV1 || r.Algorithm == "" {
		return nil, fmt.Errorf("%w: encryption record of version %d", ErrBadRecord, r.Version)
	}
	return &meta.Encryption{Algorithm: r.Algorithm, SealedKey: meta.Sealed(r.SealedKey), KMSKeyARN: r.KMSKeyARN,
		Context: nilIfEmpty(r.Context), WrappedKey: meta.Sealed(r.WrappedKey), BucketKey: r.BucketKey}, nil
}

// bucketEncryptionRec is the stored form of meta.BucketEncryption.
type bucketEncryptionRec struct {
	Algorithm      string   `json:"a"`
	KMSMasterKeyID string   `json:"kms,omitempty"`
	BucketKey      bool     `json:"bk,omitempty"`
	Blocked        []string `json:"bl,omitempty"`
}

func toBucketEncryptionRec(e *meta.BucketEncryption) *bucketEncryptionRec {
	if e == nil {
		return nil
	}
	return &bucketEncryptionRec{Algorithm: e.Algorithm, KMSMasterKeyID: e.KMSMasterKeyID, BucketKey: e.BucketKeyEnabled, Blocked: e.BlockedEncryptionTypes}
}

func fromBucketEncryptionRec(r *bucketEncryptionRec) *meta.BucketEncryption {
	if r == nil {
		return nil
	}
	return &meta.BucketEncryption{Algorithm: r.Algorithm, KMSMasterKeyID: r.KMSMasterKeyID, BucketKeyEnabled: r.BucketKey, BlockedEncryptionTypes: r.Blocked}
}
