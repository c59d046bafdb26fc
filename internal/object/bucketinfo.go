package object

import (
	"slices"
	"time"

	"github.com/coffer/coffer/internal/meta"
)

// Bucket is a bucket's settings as the wire layer reads them.
type Bucket struct {
	Name    string
	Region  string // LocationConstraint given at creation ("" for us-east-1)
	Owner   string // account id of the owner
	Created time.Time
	// ObjectOwnership is the stored Object Ownership setting; read it through Ownership.
	ObjectOwnership string
	// Encryption is the explicit default-encryption configuration, nil if none was set.
	Encryption *BucketEncryption
	// Policy is the bucket policy document, "" if none.
	Policy string
	// PublicAccessBlock is the Block Public Access configuration, nil if none.
	PublicAccessBlock *PublicAccessBlock
}

// BucketEncryption is a bucket's explicit default-encryption configuration. A bucket without
// one uses SSE-S3, as S3 does since 2023.
type BucketEncryption struct {
	Algorithm              string // SSES3, SSEKMS or SSEKMSDSSE
	KMSMasterKeyID         string // as the client gave it; only for the KMS algorithms
	BucketKeyEnabled       bool
	BlockedEncryptionTypes []string // NoneBlocked, BlockedSSEC
}

// DefaultEncryption returns the bucket's effective default encryption: its explicit
// configuration, or SSE-S3 for a bucket never configured (or reset), as S3 does.
func (b Bucket) DefaultEncryption() BucketEncryption {
	if b.Encryption == nil {
		return BucketEncryption{Algorithm: SSES3}
	}
	return *b.Encryption
}

// bucketOf is the wire layer's view of a stored bucket.
func bucketOf(b meta.Bucket) Bucket {
	out := Bucket{Name: b.Name, Region: b.Region, Owner: b.Owner, Created: b.Created,
		ObjectOwnership: b.ObjectOwnership, Encryption: bucketEncryptionOf(b.Encryption), Policy: b.Policy}
	if c := b.PublicAccessBlock; c != nil {
		out.PublicAccessBlock = &PublicAccessBlock{BlockPublicAcls: c.BlockPublicAcls, IgnorePublicAcls: c.IgnorePublicAcls,
			BlockPublicPolicy: c.BlockPublicPolicy, RestrictPublicBuckets: c.RestrictPublicBuckets}
	}
	return out
}

// bucketEncryptionOf copies a stored default-encryption configuration (nil stays nil).
func bucketEncryptionOf(e *meta.BucketEncryption) *BucketEncryption {
	if e == nil {
		return nil
	}
	return &BucketEncryption{Algorithm: e.Algorithm, KMSMasterKeyID: e.KMSMasterKeyID,
		BucketKeyEnabled: e.BucketKeyEnabled, BlockedEncryptionTypes: slices.Clone(e.BlockedEncryptionTypes)}
}

// stored is the record to keep for a configuration (nil stays nil).
func (e *BucketEncryption) stored() *meta.BucketEncryption {
	if e == nil {
		return nil
	}
	return &meta.BucketEncryption{Algorithm: e.Algorithm, KMSMasterKeyID: e.KMSMasterKeyID,
		BucketKeyEnabled: e.BucketKeyEnabled, BlockedEncryptionTypes: slices.Clone(e.BlockedEncryptionTypes)}
}
