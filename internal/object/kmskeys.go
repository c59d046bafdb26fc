package object

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/sse"
)

// SSE-KMS and DSSE-KMS key handling.
//
//   - SSE-KMS: the KMS makes a data key for the object (context: the client's pairs and
//     aws:s3:arn = the object ARN); the data key is the object key, its wrapped form is stored
//     and every GET unwraps it (one KMS call).
//   - SSE-KMS with a bucket key: the KMS makes a data key for the bucket (aws:s3:arn = the
//     bucket ARN), cached for a while per requester; each object gets a random key sealed
//     under it (sse.SealKey, bound to the object's identity). The record keeps the wrapped
//     bucket key, so any node can re-derive everything from the record alone.
//   - DSSE-KMS: two independent layers. The inner stream is encrypted under a KMS data key
//     as for SSE-KMS; its ciphertext is encrypted again under a random S3-managed key sealed
//     by the SSE-S3 service key. Neither key derives from the other.

// newKMSKey makes the keys and record of a new SSE-KMS or DSSE-KMS object.
func (s *Service) newKMSKey(ctx context.Context, enc encryption, id sse.Identity) (objectKeys, *meta.Encryption, error) {
	c := callerOf(ctx)
	rec := &meta.Encryption{Algorithm: enc.alg, Context: enc.ctx}
	if enc.bucketKey {
		k := secret.Generate()
		rec, err := s.sealUnderBucketKey(ctx, enc, id, k)
		if err != nil {
			k.Destroy()
			return objectKeys{}, nil, err
		}
		return objectKeys{inner: k, keyedETag: true}, rec, nil
	}
	dk, err := s.keys.DataKey(ctx, c, enc.keyID, kmsContext(enc.ctx, objectARN(id)))
	if err != nil {
		return objectKeys{}, nil, err
	}
	inner, err := dk.Plaintext.Key()
	dk.Plaintext.Destroy() // the data key lives on only as the object key
	if err != nil {
		return objectKeys{}, nil, err
	}
	rec.KMSKeyARN, rec.WrappedKey = dk.KeyARN, dk.Wrapped
	keys := objectKeys{inner: inner, keyedETag: true}
	if enc.alg == meta.SSEKMSDSSE {
		if keys.outer, rec.SealedKey, err = s.newServiceKey(ctx, id); err != nil {
			inner.Destroy()
			return objectKeys{}, nil, err
		}
	}
	return keys, rec, nil
}

// openKMSKey opens the keys of an SSE-KMS or DSSE-KMS record for identity id.
func (s *Service) openKMSKey(ctx context.Context, enc *meta.Encryption, id sse.Identity) (objectKeys, error) {
	c := callerOf(ctx)
	if enc.BucketKey != "" {
		if enc.Algorithm != meta.SSEKMS {
			return objectKeys{}, fmt.Errorf("%w: bucket key on a %s record", ErrDamaged, enc.Algorithm)
		}
		kek, err := s.bucketKeys.forRead(ctx, s.keys, c, id.Bucket, enc)
		if err != nil {
			return objectKeys{}, err
		}
		defer kek.Destroy()
		k, err := sse.UnsealKey(enc.SealedKey, kek, sse.ModeSSEKMS, id)
		if err != nil {
			return objectKeys{}, fmt.Errorf("%w: unsealing the object key: %w", ErrDamaged, err)
		}
		return objectKeys{inner: k, keyedETag: true}, nil
	}
	plain, err := s.keys.Unwrap(ctx, c, enc.KMSKeyARN, enc.WrappedKey, kmsContext(enc.Context, objectARN(id)))
	if err != nil {
		return objectKeys{}, err
	}
	inner, err := plain.Key()
	plain.Destroy()
	if err != nil {
		return objectKeys{}, fmt.Errorf("%w: data key: %w", ErrDamaged, err)
	}
	keys := objectKeys{inner: inner, keyedETag: true}
	if enc.Algorithm == meta.SSEKMSDSSE {
		keys.outer, err = s.keys.UnsealServiceKey(ctx, enc.SealedKey, serviceContext(id))
		if err != nil {
			inner.Destroy()
			return objectKeys{}, fmt.Errorf("%w: unsealing the S3 layer key: %w", ErrDamaged, err)
		}
	}
	return keys, nil
}

// bucketKeyRef names a wrapped bucket key in object records: a digest of its wrapped form,
// so equal references mean the same bucket key on every node.
func bucketKeyRef(wrapped []byte) string {
	h := sha256.Sum256(wrapped)
	return hex.EncodeToString(h[:16])
}
