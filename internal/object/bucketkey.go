package object

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/secret"
)

// Bucket keys (S3 Bucket Keys): a data key the KMS makes for a bucket (context aws:s3:arn =
// the bucket ARN and the client's pairs), under which object keys are sealed, so most writes
// and reads need no KMS call. One bucket key per requester, KMS key and context, as S3 does,
// so the KMS still sees who uses its keys.
//
// The cache holds only what any node can re-derive from a stored record (the wrapped bucket
// key, unwrapped by the KMS): it saves KMS calls and never decides anything. It is bounded in
// entries and in time; an expired entry is unwrapped (read) or replaced (write) again. Before
// a cached key is used the KMS key's state is checked (no cryptographic call), so disabling
// or scheduling the deletion of a key stops its objects at once.

// Bucket-key cache defaults.
const (
	DefaultBucketKeyTTL     = 5 * time.Minute
	DefaultBucketKeyEntries = 1024
)

// bucketKeyCache caches unwrapped bucket keys. Safe for concurrent use.
type bucketKeyCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*bucketKeyEntry

	hits, misses atomic.Uint64 // gets that found a live entry, and those that did not
}

// bucketKeyEntry is one unwrapped bucket key.
type bucketKeyEntry struct {
	kek     secret.Key
	keyARN  string
	wrapped []byte
	ref     string
	expires time.Time
}

// bucketKey is a bucket key handed to one request: kek is the caller's own copy.
type bucketKey struct {
	kek     secret.Key
	keyARN  string
	wrapped []byte
	ref     string
}

func newBucketKeyCache(ttl time.Duration, max int, now func() time.Time) *bucketKeyCache {
	if ttl <= 0 {
		ttl = DefaultBucketKeyTTL
	}
	if max <= 0 {
		max = DefaultBucketKeyEntries
	}
	return &bucketKeyCache{ttl: ttl, max: max, now: now, entries: make(map[string]*bucketKeyEntry)}
}

// writeSlot names the bucket key new objects of a requester use for a bucket, KMS key and context.
func writeSlot(c Caller, bucket string, enc encryption) string {
	return slotName("w", c.ARN, bucket, enc.keyID, enc.ctx)
}

// readSlot names an unwrapped bucket key for a requester, with the bucket and context it was
// unwrapped for, so a hit stands for the KMS call it saves: the same requester, wrapped key
// and context.
func readSlot(c Caller, bucket, ref string, ec map[string]string) string {
	return slotName("r", c.ARN, bucket, ref, ec)
}

// slotName encodes a cache slot injectively: every field and context pair is length-prefixed,
// so no choice of strings (a NUL in a context value, say) makes two slots read alike.
func slotName(kind, arn, bucket, key string, ec map[string]string) string {
	var b strings.Builder
	field := func(v string) {
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
	}
	for _, v := range []string{kind, arn, bucket, key} {
		field(v)
	}
	for _, k := range slices.Sorted(maps.Keys(ec)) {
		field(k)
		field(ec[k])
	}
	return b.String()
}

// BucketKeyCacheCounts returns how many bucket-key lookups found an unwrapped key (saving a
// KMS call) and how many did not.
func (s *Service) BucketKeyCacheCounts() (hits, misses uint64) {
	return s.bucketKeys.hits.Load(), s.bucketKeys.misses.Load()
}

// BucketPolicyCacheCounts returns how many bucket policy evaluations found the policy
// compiled, and how many parsed it.
func (s *Service) BucketPolicyCacheCounts() (hits, misses uint64) { return s.policies.Counts() }

// get returns a copy of a live entry.
func (bc *bucketKeyCache) get(slot string) (bucketKey, bool) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	e := bc.entries[slot]
	if e == nil {
		bc.misses.Add(1)
		return bucketKey{}, false
	}
	if !bc.now().Before(e.expires) {
		delete(bc.entries, slot)
		e.kek.Destroy()
		bc.misses.Add(1)
		return bucketKey{}, false
	}
	bc.hits.Add(1)
	kek, err := secret.FromBytes(e.kek.RevealBytes())
	if err != nil {
		return bucketKey{}, false
	}
	return bucketKey{kek: kek, keyARN: e.keyARN, wrapped: e.wrapped, ref: e.ref}, true
}

// put stores a copy of bk under each slot, making room by dropping expired entries and then,
// if still full, arbitrary ones.
func (bc *bucketKeyCache) put(bk bucketKey, slots ...string) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	now := bc.now()
	for _, slot := range slots {
		if len(bc.entries) >= bc.max {
			for s, e := range bc.entries {
				if !now.Before(e.expires) {
					delete(bc.entries, s)
					e.kek.Destroy()
				}
			}
		}
		for s, e := range bc.entries {
			if len(bc.entries) < bc.max {
				break
			}
			delete(bc.entries, s)
			e.kek.Destroy()
		}
		kek, err := secret.FromBytes(bk.kek.RevealBytes())
		if err != nil {
			return
		}
		if old := bc.entries[slot]; old != nil {
			old.kek.Destroy()
		}
		bc.entries[slot] = &bucketKeyEntry{kek: kek, keyARN: bk.keyARN, wrapped: bk.wrapped, ref: bk.ref, expires: now.Add(bc.ttl)}
	}
}

// forWrite returns the bucket key new objects of c in bucket use under enc, asking the KMS for
// a new one when none is cached.
func (bc *bucketKeyCache) forWrite(ctx context.Context, keys Keys, c Caller, bucket string, enc encryption) (bucketKey, error) {
	slot := writeSlot(c, bucket, enc)
	if bk, ok := bc.get(slot); ok {
		if err := keys.CheckKey(ctx, c, bk.keyARN, true, kmsContext(enc.ctx, bucketARN(bucket))); err != nil {
			bk.kek.Destroy()
			return bucketKey{}, err
		}
		return bk, nil
	}
	dk, err := keys.DataKey(ctx, c, enc.keyID, kmsContext(enc.ctx, bucketARN(bucket)))
	if err != nil {
		return bucketKey{}, err
	}
	kek, err := dk.Plaintext.Key()
	dk.Plaintext.Destroy()
	if err != nil {
		return bucketKey{}, err
	}
	bk := bucketKey{kek: kek, keyARN: dk.KeyARN, wrapped: dk.Wrapped, ref: bucketKeyRef(dk.Wrapped)}
	bc.put(bk, slot, readSlot(c, bucket, bk.ref, enc.ctx))
	return bk, nil
}

// forRead returns the unwrapped bucket key of record enc for c.
func (bc *bucketKeyCache) forRead(ctx context.Context, keys Keys, c Caller, bucket string, enc *meta.Encryption) (secret.Key, error) {
	if bucketKeyRef(enc.WrappedKey) != enc.BucketKey {
		return secret.Key{}, fmt.Errorf("%w: bucket key reference does not match its wrapped key", ErrDamaged)
	}
	slot := readSlot(c, bucket, enc.BucketKey, enc.Context)
	if bk, ok := bc.get(slot); ok {
		if bk.keyARN != enc.KMSKeyARN {
			bk.kek.Destroy()
			return secret.Key{}, fmt.Errorf("%w: bucket key of another KMS key", ErrDamaged)
		}
		if err := keys.CheckKey(ctx, c, bk.keyARN, false, kmsContext(enc.Context, bucketARN(bucket))); err != nil {
			bk.kek.Destroy()
			return secret.Key{}, err
		}
		return bk.kek, nil
	}
	plain, err := keys.Unwrap(ctx, c, enc.KMSKeyARN, enc.WrappedKey, kmsContext(enc.Context, bucketARN(bucket)))
	if err != nil {
		return secret.Key{}, err
	}
	kek, err := plain.Key()
	plain.Destroy()
	if err != nil {
		return secret.Key{}, fmt.Errorf("%w: bucket key: %w", ErrDamaged, err)
	}
	bc.put(bucketKey{kek: kek, keyARN: enc.KMSKeyARN, wrapped: enc.WrappedKey, ref: enc.BucketKey}, slot)
	return kek, nil
}
