// Package meta defines the narrow interface through which Coffer keeps bucket, object and
// multipart-upload metadata.
//
// Each method is one transaction: it happens whole or not at all, and when it returns nil it is
// durable. Every backend must pass the conformance suite in package metatest.
package meta

import (
	"context"
	"errors"
	"time"
)

// Errors returned by every Store. Backends wrap them with %w.
var (
	ErrBucketExists   = errors.New("meta: bucket already exists")
	ErrNoSuchBucket   = errors.New("meta: no such bucket")
	ErrBucketNotEmpty = errors.New("meta: bucket not empty")
	ErrNoSuchKey      = errors.New("meta: no such key")
	ErrNoSuchUpload   = errors.New("meta: no such upload")
	// ErrPartChanged means CompleteUpload was given an object that references a blob which is
	// no longer one of the upload's parts: the part was replaced after the caller read it.
	ErrPartChanged = errors.New("meta: part changed during completion")
	// ErrObjectChanged means ReplaceEncryption found the object overwritten or deleted since
	// the caller read it; nothing was changed.
	ErrObjectChanged = errors.New("meta: object changed since it was read")
)

// Bucket is a bucket's metadata.
type Bucket struct {
	Name    string
	Region  string // LocationConstraint given at creation ("" for us-east-1)
	Owner   string // account id of the owner
	Created time.Time
	// ObjectOwnership is the bucket's S3 Object Ownership setting as package object names it;
	// "" is the default, which records written before the setting existed also read as.
	ObjectOwnership string
	// Encryption is the explicit default-encryption configuration, nil if none was set.
	Encryption *BucketEncryption
	// Policy is the bucket policy document as the owner put it, "" if none.
	Policy string
	// PublicAccessBlock is the bucket's Block Public Access configuration, nil if none.
	PublicAccessBlock *PublicAccessBlock
}

// Object is one object's metadata: everything needed to serve it except its bytes.
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
	// Parts lists where the bytes are, in order. A single PUT has one part, numbered 0.
	Parts []Part
	// PartsCount is the number of parts of a multipart object, 0 for a single PUT.
	PartsCount int
	// UploadID names the multipart upload that made the object ("" for any other write), so a
	// CompleteMultipartUpload repeated after its success can be answered from the object.
	UploadID string
	// Encryption opens the bytes; nil for plaintext written before encryption existed.
	Encryption *Encryption
}

// Upload is an in-progress multipart upload.
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
}

// Part is a stored part of a multipart upload, or one run of an object's bytes.
type Part struct {
	Number int
	Blob   string // blob name of the bytes; "" when they are Inline
	// Inline holds the bytes of a small object in the metadata record itself (Blob is then
	// ""), so writing it costs one metadata commit instead of a blob and a commit.
	Inline       []byte
	Size         int64
	ETag         string // without quotes
	LastModified time.Time
	Checksums    map[string]string
}

// Intent records that a blob is about to be written for an object (UploadID "") or a part of
// an upload. The object layer records it before the blob can be durable and a store drops it
// in the same transaction as the PutObject or PutPart that stores a reference to the blob, so
// while an intent exists no record refers to its blob: after a crash, the blob of an intent
// older than every write still running is an orphan of an interrupted write, and only such a
// blob is ever deleted by the start-up sweep. A blob that no record and no intent names is
// reported by `coffer admin check`, never deleted.
//
// A freed intent (Kind IntentFreed) records instead that a blob lost its last reference (its
// object was overwritten or deleted, its part replaced, its upload aborted) and is to be
// deleted once no read begun before the freeing can still be streaming it: nodes sharing a
// blob store defer their deletes that way (see object.Config.Shared). A commit that names the
// blob again drops a freed intent just as it drops a write intent.
type Intent struct {
	Blob     string
	Bucket   string
	Key      string
	UploadID string
	Created  time.Time
	Kind     IntentKind
}

// IntentKind tells a write intent from a freed one.
type IntentKind int

const (
	// IntentWrite names a blob being written: the zero value, and every intent stored before
	// freed intents existed.
	IntentWrite IntentKind = iota
	// IntentFreed names a blob no record references any more, whose deletion is deferred.
	IntentFreed
)

// String names the kind for messages.
func (k IntentKind) String() string {
	switch k {
	case IntentWrite:
		return "write"
	case IntentFreed:
		return "freed"
	}
	return "unknown"
}

// ListOptions selects a page of objects or uploads.
type ListOptions struct {
	Prefix string // only keys starting with Prefix
	After  string // only keys strictly greater than After (byte order)
	Limit  int    // at most Limit entries; <= 0 means no limit
}

// Condition guards a write: it is called inside the write's transaction with the object the
// write would replace (nil if there is none), and an error from it aborts the write, changing
// nothing, and is returned (wrapped, so errors.Is finds it). It may be called more than once for one write (a backend may
// retry a transaction); it must not have side effects.
type Condition func(current *Object) error

// Store keeps metadata. All listings are in ascending byte order of key.
type Store interface {
	CreateBucket(ctx context.Context, b Bucket) error           // ErrBucketExists
	GetBucket(ctx context.Context, name string) (Bucket, error) // ErrNoSuchBucket
	// DeleteBucket removes a bucket that holds no object (ErrNoSuchBucket, ErrBucketNotEmpty).
	// In-progress uploads do not count as content: as in S3, they and their parts go with the
	// bucket, in the same transaction, and their parts are returned so the blobs can be freed.
	DeleteBucket(ctx context.Context, name string) ([]Part, error)
	ListBuckets(ctx context.Context) ([]Bucket, error) // by name
	// UpdateBucket changes a bucket's settings in one transaction: fn gets the stored bucket
	// and edits it in place; its error aborts the update, changing nothing, and is returned
	// (wrapped). fn may run more than once and must have no side effects. Name, Owner and
	// Created are kept whatever fn does. ErrNoSuchBucket if the bucket is gone.
	UpdateBucket(ctx context.Context, name string, fn func(*Bucket) error) error

	// PutObject stores o, replacing any object of the same key, and returns the replaced one
	// (nil if none) so its blobs can be freed. ErrNoSuchBucket if the bucket is gone. It drops
	// the intents of o's blobs in the same transaction (see Intent).
	//
	// Part.Inline bytes come back from GetObject and DeleteObject only: listings and replaced
	// objects leave them nil, so a page of small objects costs no more to list than any other.
	// Conditions, if given, must all pass in the same transaction (S3's conditional writes).
	PutObject(ctx context.Context, o Object, cond ...Condition) (*Object, error)
	GetObject(ctx context.Context, bucket, key string) (Object, error) // ErrNoSuchBucket, ErrNoSuchKey
	// DeleteObject removes the object and returns it (ErrNoSuchBucket, ErrNoSuchKey).
	// Conditions, if given, see the object and must all pass in the same transaction.
	DeleteObject(ctx context.Context, bucket, key string, cond ...Condition) (Object, error)
	ListObjects(ctx context.Context, bucket string, opt ListOptions) ([]Object, error)
	// ReplaceEncryption stores enc (not nil) as the encryption record of read, an object as
	// GetObject returned it, changing nothing else, if the stored object is still the write
	// that was read (SameWrite); else ErrObjectChanged, or ErrNoSuchKey if it is gone, with
	// nothing changed. It is the compare-and-swap of UpdateObjectEncryption, which re-wraps an
	// object's key without touching its bytes.
	ReplaceEncryption(ctx context.Context, read Object, enc *Encryption) error

	CreateUpload(ctx context.Context, u Upload) error                            // ErrNoSuchBucket
	GetUpload(ctx context.Context, bucket, key, uploadID string) (Upload, error) // ErrNoSuchUpload
	// PutPart stores p in the upload, replacing the part of the same number, and returns the
	// replaced part (nil if none). ErrNoSuchUpload if the upload is gone. It drops the intent
	// of p's blob in the same transaction (see Intent).
	PutPart(ctx context.Context, bucket, key, uploadID string, p Part) (*Part, error)
	// ListParts lists parts with Number > after, ascending, at most limit (<= 0: all).
	ListParts(ctx context.Context, bucket, key, uploadID string, after, limit int) ([]Part, error)
	// ListUploads lists uploads by (key, upload id) ascending: keys with opt.Prefix, and
	// (key > opt.After) or (key == opt.After and upload id > afterUploadID).
	ListUploads(ctx context.Context, bucket string, opt ListOptions, afterUploadID string) ([]Upload, error)
	// AbortUpload removes the upload and its parts, returning the parts so their blobs can be
	// freed (ErrNoSuchUpload).
	AbortUpload(ctx context.Context, bucket, key, uploadID string) ([]Part, error)
	// CompleteUpload atomically removes the upload with all its part records and stores o in
	// its place, returning the replaced object (nil if none) and the removed parts that o does
	// not reference, for freeing. ErrNoSuchUpload if the upload is gone; ErrPartChanged, with
	// nothing changed, if o references a blob that is not among the upload's current parts.
	// Conditions are as for PutObject and are checked before anything changes.
	CompleteUpload(ctx context.Context, uploadID string, o Object, cond ...Condition) (replaced *Object, unused []Part, err error)

	// RecordIntent durably records an intent (replacing one for the same blob).
	RecordIntent(ctx context.Context, in Intent) error
	// DropIntent removes the intent of blob, if there is one: after the blob was deleted, or
	// when its write failed before anything was stored under its name.
	DropIntent(ctx context.Context, blob string) error
	// ListIntents returns up to limit (<= 0: all) intents of either kind created before the
	// given time.
	ListIntents(ctx context.Context, before time.Time, limit int) ([]Intent, error)

	// Close releases the store.
	Close() error
}
