// Package object implements buckets, objects, multipart uploads and listing on top of the
// narrow metadata and blob interfaces. It knows S3's semantics but nothing of HTTP.
package object

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/policy"
	"github.com/coffer/coffer/internal/sse"
)

// Error classes of the object service, beyond the not-found and conflict classes (ErrNoSuchKey…)
// that it passes through. The S3 wire layer maps each to an AWS error code.
var (
	ErrInvalidBucketName       = errors.New("object: invalid bucket name")
	ErrBucketAlreadyOwnedByYou = errors.New("object: bucket already owned by you")
	ErrBucketAlreadyExists     = errors.New("object: bucket name taken by another account")
	ErrKeyTooLong              = errors.New("object: key too long")
	ErrInvalidKey              = errors.New("object: key is not valid UTF-8 or is empty")
	ErrEntityTooLarge          = errors.New("object: entity too large")
	ErrEntityTooSmall          = errors.New("object: part smaller than the minimum")
	ErrBadDigest               = errors.New("object: checksum does not match the data")
	ErrInvalidPart             = errors.New("object: part not found or ETag mismatch")
	ErrInvalidPartOrder        = errors.New("object: part list not in ascending order")
	ErrInvalidPartNumber       = errors.New("object: part number out of range")
	ErrMalformedCompletion     = errors.New("object: empty part list")
	ErrInvalidRange            = errors.New("object: range not satisfiable")
	ErrIncompleteBody          = errors.New("object: body shorter than Content-Length")
	ErrMetadataTooLarge        = errors.New("object: user metadata too large")
	ErrInvalidChecksum         = errors.New("object: invalid checksum value or algorithm")
)

// Limits of the S3 API.
const (
	MaxKeyLength     = 1024
	MaxObjectSize    = 5 << 40 // 5 TiB
	MaxPutSize       = 5 << 30 // 5 GiB in one PUT or one part
	MinPartSize      = 5 << 20 // every part but the last
	MaxPartNumber    = 10000
	MaxUserMetaBytes = 2 << 10
	// InlineMax is the largest object kept inside its metadata record instead of a blob: such a
	// PUT costs one (group-committed) metadata write instead of a blob's fsyncs and a commit.
	InlineMax = 16 << 10
)

// Service is the object service. It is safe for concurrent use.
type Service struct {
	meta  meta.Store
	blobs blob.Store
	keys  Keys
	// bucketKeys caches unwrapped S3 bucket keys (see bucketkey.go).
	bucketKeys *bucketKeyCache
	// policies caches compiled bucket policies (see policycache.go).
	policies *policy.Cache
	log      *slog.Logger
	now      func() time.Time
	// allowSSECOnNewBuckets: new buckets accept SSE-C writes (Config.AllowSSECOnNewBuckets).
	allowSSECOnNewBuckets bool
	// writing holds the names of blobs written and not yet committed or freed (name →
	// struct{}), which the start-up sweep never deletes whatever their intents' times say.
	writing sync.Map
	// readBufs holds the buffers that open objects read and decrypt in (*[]byte of
	// sse.ReadBufferSize bytes), so a GET allocates none.
	readBufs sync.Pool
}

// Config wires a Service.
type Config struct {
	Meta  meta.Store
	Blobs blob.Store
	// Keys seals and opens object keys. Every write encrypts, so a Service without Keys can
	// read only plaintext objects written before encryption existed.
	Keys Keys
	// BucketKeyTTL and BucketKeyEntries bound the bucket-key cache in time and size (0:
	// DefaultBucketKeyTTL, DefaultBucketKeyEntries).
	BucketKeyTTL     time.Duration
	BucketKeyEntries int
	// PolicyCacheEntries bounds the compiled bucket policies kept (0: DefaultPolicyCacheEntries).
	PolicyCacheEntries int
	Logger             *slog.Logger     // nil discards
	Now                func() time.Time // nil means time.Now
	// AllowSSECOnNewBuckets makes new buckets accept SSE-C writes, as S3 did before April
	// 2026, for older tools that assume it. By default (false) new buckets block SSE-C until
	// PutBucketEncryption sets BlockedEncryptionTypes to NONE, as S3 does now.
	AllowSSECOnNewBuckets bool
}

// New returns a Service over the given stores.
func New(c Config) *Service {
	s := &Service{meta: c.Meta, blobs: c.Blobs, keys: c.Keys, log: c.Logger, now: c.Now, allowSSECOnNewBuckets: c.AllowSSECOnNewBuckets}
	s.readBufs.New = func() any { b := make([]byte, sse.ReadBufferSize); return &b }
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.bucketKeys = newBucketKeyCache(c.BucketKeyTTL, c.BucketKeyEntries, s.now)
	entries := c.PolicyCacheEntries
	if entries <= 0 {
		entries = DefaultPolicyCacheEntries
	}
	s.policies = policy.NewCache(policy.ResourceKind, entries)
	return s
}

// newBlobName returns a fresh, unique blob name under kind ("o" objects, "p" parts), sharded
// by its first byte so no directory grows without bound.
func newBlobName(kind string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	h := hex.EncodeToString(b[:])
	return kind + "/" + h[:2] + "/" + h
}

// newUploadID returns an opaque multipart upload id.
func newUploadID() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// freeBlobs deletes blobs no longer referenced by metadata. Failures only leak space, so they
// are logged rather than returned: the request that freed them has already succeeded.
func (s *Service) freeBlobs(ctx context.Context, parts []meta.Part) {
	for _, p := range parts {
		if p.Blob == "" {
			continue
		}
		if err := s.blobs.Delete(context.WithoutCancel(ctx), p.Blob); err != nil && !errors.Is(err, blob.ErrNotFound) {
			s.log.WarnContext(ctx, "freeing blob failed", "blob", p.Blob, "err", err)
		}
	}
}

func (s *Service) nowUTC() time.Time { return s.now().UTC().Truncate(time.Millisecond) }
