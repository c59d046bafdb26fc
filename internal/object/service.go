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
	// ErrRequestTimeout means a write on stores shared with other nodes took so long that the
	// others may take it for an interrupted one (Config.MaxWriteAge); nothing was stored.
	ErrRequestTimeout = errors.New("object: write took longer than shared stores allow")
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
	// struct{}), which the sweeps never delete whatever their intents' times say.
	writing sync.Map
	// shared defers frees to Sweep (Config.Shared); freeAfter and maxWriteAge are Sweep's
	// bounds (Config.FreeAfter, Config.MaxWriteAge).
	shared                 bool
	freeAfter, maxWriteAge time.Duration
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
	// Shared says that other nodes serve from the same metadata and blob stores (pgmeta with
	// s3blob, or with fsblob.NewShared on a shared file system). A blob that loses its last
	// reference (an overwrite, a delete, a replaced part, an aborted upload) is then not
	// deleted at once: a GET on another node may be streaming it, and a shared store does not
	// keep a deleted blob readable for its open readers (S3 does not, nor does NFS across
	// clients). A freed intent is recorded instead (meta.IntentFreed), and Sweep, which every
	// such node runs every few minutes in place of SweepInterrupted at start-up, deletes the
	// blob FreeAfter later. Without Shared (one process over its own stores) a freed blob is
	// deleted at once: an open reader keeps reading a deleted file.
	Shared bool
	// FreeAfter is how long, with Shared, a freed blob stays readable for the reads already
	// streaming it (0: DefaultFreeAfter). A GET that is still streaming FreeAfter after its
	// object was overwritten or deleted may fail midway (never with wrong bytes); raise it
	// where GETs of large objects over slow links take longer.
	FreeAfter time.Duration
	// MaxWriteAge bounds how long any node sharing the stores takes from a write's intent to
	// its commit: one PUT or UploadPart of at most MaxPutSize (0: DefaultMaxWriteAge). Sweep
	// deletes the blob of a write intent older than that as an interrupted write's. So that no
	// commit names a blob a sweep deleted, a write whose blob is stored after nine tenths of
	// MaxWriteAge is given up (ErrRequestTimeout); the last tenth is for its commit and the
	// skew of the clocks. The clocks of the nodes must agree to well within FreeAfter and
	// MaxWriteAge.
	MaxWriteAge time.Duration
}

// Defaults of the bounds of deferred freeing (Config.FreeAfter, Config.MaxWriteAge).
const (
	// DefaultFreeAfter keeps a freed blob an hour: a GET of a 5 GiB object (the largest single
	// PUT) has that long at 1.5 MB/s, and a GET of a larger multipart object at proportionally more.
	DefaultFreeAfter = time.Hour
	// DefaultMaxWriteAge allows a PUT or UploadPart of 5 GiB six hours, 250 KB/s on average;
	// a body that stalls is cut off long before (s3api's idle timeout).
	DefaultMaxWriteAge = 6 * time.Hour
)

// New returns a Service over the given stores.
func New(c Config) *Service {
	s := &Service{meta: c.Meta, blobs: c.Blobs, keys: c.Keys, log: c.Logger, now: c.Now, allowSSECOnNewBuckets: c.AllowSSECOnNewBuckets,
		shared: c.Shared, freeAfter: c.FreeAfter, maxWriteAge: c.MaxWriteAge}
	if s.freeAfter <= 0 {
		s.freeAfter = DefaultFreeAfter
	}
	if s.maxWriteAge <= 0 {
		s.maxWriteAge = DefaultMaxWriteAge
	}
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

// freeBlobs frees the blobs of parts, which a metadata commit has just stopped referencing;
// of names the object or upload they belonged to (Bucket, Key, UploadID), for the sweep's
// reference check. Without Config.Shared it deletes them at once; with it, it records a freed
// intent for each, and Sweep deletes the blob once FreeAfter has passed. Failures only leak
// space, so they are logged rather than returned: the request that freed the blobs has
// already succeeded. (A crash between the commit and the freeing leaks the blobs too:
// `coffer admin check` reports them.)
func (s *Service) freeBlobs(ctx context.Context, of meta.Intent, parts []meta.Part) {
	for _, p := range parts {
		if p.Blob == "" {
			continue
		}
		if !s.shared {
			s.deleteBlob(ctx, p.Blob)
			continue
		}
		in := meta.Intent{Blob: p.Blob, Bucket: of.Bucket, Key: of.Key, UploadID: of.UploadID, Created: s.now(), Kind: meta.IntentFreed}
		if err := s.meta.RecordIntent(context.WithoutCancel(ctx), in); err != nil {
			// Deleting now could cut off a read on another node: leak the blob instead.
			s.log.WarnContext(ctx, "recording a freed blob failed; the blob is kept (coffer admin check reports it)", "blob", p.Blob, "err", err)
		}
	}
}

// deleteBlob deletes a blob at once: a freed one on a store no other node reads, or one that
// no record ever named (its write failed), which no reader can know of.
func (s *Service) deleteBlob(ctx context.Context, name string) {
	if err := s.blobs.Delete(context.WithoutCancel(ctx), name); err != nil && !errors.Is(err, blob.ErrNotFound) {
		s.log.WarnContext(ctx, "freeing blob failed", "blob", name, "err", err)
	}
}

func (s *Service) nowUTC() time.Time { return s.now().UTC().Truncate(time.Millisecond) }
