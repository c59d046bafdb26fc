package object

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/sse"
)

// SSE is the server-side encryption a write asks for. The zero SSE takes the bucket's default,
// which is SSE-S3 unless configured otherwise, as in S3 since 2023.
type SSE struct {
	Algorithm string // "", meta.SSES3 or meta.SSEC
	// CustomerKey is the client's key of an SSE-C write; the caller owns and clears it.
	CustomerKey secret.Key
}

// ErrSSEUnsupported is a request (or bucket default) for an encryption mode this build does
// not implement yet.
var ErrSSEUnsupported = errors.New("object: server-side encryption mode not supported")

// algorithm resolves the encryption of a new object in bucket b: the request's, else the
// bucket default, else SSE-S3.
func algorithm(req SSE, b meta.Bucket) string {
	switch {
	case req.Algorithm != "":
		return req.Algorithm
	case b.Encryption != nil && b.Encryption.Algorithm != "":
		return b.Encryption.Algorithm
	}
	return meta.SSES3
}

// objectIdentity is the identity an object's key is sealed for (SPEC.md of internal/sse §1):
// a multipart object's key belongs to its upload.
func objectIdentity(bucket, key, uploadID string) sse.Identity {
	return sse.Identity{Bucket: bucket, Key: key, UploadID: uploadID}
}

// partIdentity is the identity of the stream of one stored part of o.
func partIdentity(o meta.Object, p meta.Part) sse.Identity {
	id := objectIdentity(o.Bucket, o.Key, o.UploadID)
	if o.UploadID != "" {
		id.PartNumber = p.Number
	}
	return id
}

// serviceContext is the KMS encryption context an SSE-S3 key is sealed under: it binds the
// sealed key to its object (and upload), so a record moved to another object does not open.
func serviceContext(id sse.Identity) map[string]string {
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::" + id.Bucket + "/" + id.Key}
	if id.UploadID != "" {
		ec["coffer:upload-id"] = id.UploadID
	}
	return ec
}

// newKey makes a fresh object key for identity id and the encryption record that seals it,
// in the mode alg (resolved by algorithm) with req's key material.
func (s *Service) newKey(ctx context.Context, req SSE, alg string, id sse.Identity) (secret.Key, *meta.Encryption, error) {
	if alg == meta.SSEC {
		return newCustomerKey(req.CustomerKey, id)
	}
	if alg != meta.SSES3 {
		return secret.Key{}, nil, fmt.Errorf("%w: %s", ErrSSEUnsupported, alg)
	}
	if s.keys == nil {
		return secret.Key{}, nil, ErrNoKeys
	}
	k := secret.Generate()
	sealed, err := s.keys.SealServiceKey(ctx, k, serviceContext(id))
	if err != nil {
		k.Destroy()
		return secret.Key{}, nil, fmt.Errorf("object: sealing the object key: %w", err)
	}
	return k, &meta.Encryption{Algorithm: meta.SSES3, SealedKey: sealed}, nil
}

// openKey unseals the object key of an encryption record made for identity id; ck is the
// customer key the request presents (zero for none), needed for SSE-C and refused otherwise.
func (s *Service) openKey(ctx context.Context, enc *meta.Encryption, id sse.Identity, ck secret.Key) (secret.Key, error) {
	if enc.Algorithm == meta.SSEC {
		return openCustomerKey(enc, ck, id)
	}
	if err := CheckCustomerKey(enc, ck); err != nil {
		return secret.Key{}, err
	}
	if enc.Algorithm != meta.SSES3 {
		return secret.Key{}, fmt.Errorf("%w: unknown algorithm %q", ErrDamaged, enc.Algorithm)
	}
	if s.keys == nil {
		return secret.Key{}, ErrNoKeys
	}
	k, err := s.keys.UnsealServiceKey(ctx, []byte(enc.SealedKey), serviceContext(id))
	if err != nil {
		return secret.Key{}, fmt.Errorf("%w: unsealing the object key: %w", ErrDamaged, err)
	}
	return k, nil
}

// streamKey is the key and identity a stored stream is encrypted under.
type streamKey struct {
	key secret.Key
	id  sse.Identity
	// opaqueETag: the ETag must not be the plaintext's MD5 (SSE-C), see etag.
	opaqueETag bool
}

// encryptInline encrypts the plaintext of a small object for storage in its record.
func encryptInline(plain []byte, sk streamKey) ([]byte, error) {
	er, err := sse.NewEncryptReader(bytes.NewReader(plain), sk.key, sk.id)
	if err != nil {
		return nil, err
	}
	n, err := sse.CiphertextSize(int64(len(plain)))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(int(n))
	if _, err := io.Copy(&out, er); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// damaged classes an error of reading a stored stream: a failed authentication is ErrDamaged,
// anything else (I/O) passes through.
func damaged(err error) error {
	if errors.Is(err, sse.ErrAuth) {
		return fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return err
}
