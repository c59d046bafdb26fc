package object

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/sse"
)

// UpdateObjectEncryption (S3, 2026) re-wraps the key of a stored object under another KMS key,
// or moves an SSE-S3 object to SSE-KMS, with or without a bucket key, without touching its
// bytes: the stream format binds data to the object's identity and key, not to the way that
// key is sealed, so only the encryption record changes. A multipart object has one key for
// all its parts, so one re-wrap covers them. ETag, checksums and Last-Modified stay as they
// were.

// Error classes of UpdateObjectEncryption.
var (
	// ErrUpdateUnencrypted: the object was stored before encryption existed.
	ErrUpdateUnencrypted = errors.New("object: UpdateObjectEncryption of an unencrypted object")
	// ErrUpdateSourceType: the object is DSSE-KMS or SSE-C, which cannot be re-wrapped.
	ErrUpdateSourceType = errors.New("object: UpdateObjectEncryption of a DSSE-KMS or SSE-C object")
	// ErrUpdateKeyAccount: the KMS key belongs to another account than the bucket's owner.
	ErrUpdateKeyAccount = errors.New("object: UpdateObjectEncryption with a KMS key of another account")
	// ErrUpdateRaced: overwrites kept replacing the object while it was being re-wrapped.
	ErrUpdateRaced = errors.New("object: object overwritten during UpdateObjectEncryption")
)

// EncryptionUpdate is the encryption UpdateObjectEncryption moves an object to: SSE-KMS, the
// only target S3 allows.
type EncryptionUpdate struct {
	KMSKeyARN string // a full key ARN, as S3 requires
	BucketKey bool
}

// updateAttempts bounds how often UpdateObjectEncryption starts again when an overwrite
// replaced the object between reading and swapping its record.
const updateAttempts = 5

// UpdateObjectEncryption re-wraps the key of bucket/key as to says. KMS calls run as the
// requester in ctx. The swap is conditional on the object still being the write that was
// read, so a concurrent overwrite on any node is never undone: the update then applies to
// the new object, as if it had come after it.
func (s *Service) UpdateObjectEncryption(ctx context.Context, bucket, key string, to EncryptionUpdate) error {
	b, err := s.bucket(ctx, bucket)
	if err != nil {
		return err
	}
	if account := keyAccount(to.KMSKeyARN); account != b.Owner {
		return ErrUpdateKeyAccount
	}
	for range updateAttempts {
		o, err := s.head(ctx, bucket, key)
		if err != nil {
			return err
		}
		rec, err := s.rewrap(ctx, o, to)
		if err != nil {
			return err
		}
		err = s.meta.ReplaceEncryption(ctx, o, rec)
		if !errors.Is(err, meta.ErrObjectChanged) {
			return err
		}
	}
	return ErrUpdateRaced
}

// keyAccount returns the account of a KMS key ARN (arn:aws:kms:region:account:key/id).
func keyAccount(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 {
		return ""
	}
	return f[4]
}

// rewrap opens the key of o and seals it anew as to says, for the same identity: the
// encryption context keeps the client's pairs and aws:s3:arn names the same object.
func (s *Service) rewrap(ctx context.Context, o meta.Object, to EncryptionUpdate) (*meta.Encryption, error) {
	switch {
	case o.Encryption == nil:
		return nil, ErrUpdateUnencrypted
	case o.Encryption.Algorithm != meta.SSES3 && o.Encryption.Algorithm != meta.SSEKMS:
		return nil, ErrUpdateSourceType
	}
	id := objectIdentity(o.Bucket, o.Key, o.UploadID)
	keys, err := s.openKey(ctx, o.Encryption, id, secret.Key{}) // SSE-C sources are refused above
	if err != nil {
		return nil, err
	}
	defer keys.Destroy()
	var userCtx map[string]string
	if o.Encryption.Algorithm == meta.SSEKMS {
		userCtx = o.Encryption.Context
	}
	enc := encryption{alg: meta.SSEKMS, keyID: to.KMSKeyARN, ctx: userCtx, bucketKey: to.BucketKey}
	if to.BucketKey {
		return s.sealUnderBucketKey(ctx, enc, id, keys.inner)
	}
	keyARN, wrapped, err := s.keys.Wrap(ctx, callerOf(ctx), to.KMSKeyARN, keys.inner, kmsContext(userCtx, objectARN(id)))
	if err != nil {
		return nil, err
	}
	return &meta.Encryption{Algorithm: meta.SSEKMS, KMSKeyARN: keyARN, WrappedKey: wrapped, Context: userCtx}, nil
}

// sealUnderBucketKey seals object key k for identity id under the requester's bucket key for
// enc, and returns the record that opens it.
func (s *Service) sealUnderBucketKey(ctx context.Context, enc encryption, id sse.Identity, k secret.Key) (*meta.Encryption, error) {
	bk, err := s.bucketKeys.forWrite(ctx, s.keys, callerOf(ctx), id.Bucket, enc)
	if err != nil {
		return nil, err
	}
	defer bk.kek.Destroy()
	sealed, err := sse.SealKey(bk.kek, k, sse.ModeSSEKMS, id)
	if err != nil {
		return nil, fmt.Errorf("object: sealing the object key under the bucket key: %w", err)
	}
	return &meta.Encryption{Algorithm: meta.SSEKMS, Context: enc.ctx, KMSKeyARN: bk.keyARN,
		WrappedKey: bk.wrapped, BucketKey: bk.ref, SealedKey: sealed.Bytes()}, nil
}
