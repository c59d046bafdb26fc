package object

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/sse"
)

// SSE is the server-side encryption a write asks for. The zero SSE takes the bucket's default,
// which is SSE-S3 unless configured otherwise, as in S3 since 2023.
type SSE struct {
	Algorithm string // "", meta.SSES3, meta.SSEKMS, meta.SSEKMSDSSE or meta.SSEC
	// KMSKeyID names the KMS key of the KMS modes (key id, key ARN, alias or alias ARN);
	// "" takes the bucket default's key, else the account's alias/aws/s3.
	KMSKeyID string
	// Context is the client's encryption context. An aws:s3:arn pair in it must name the
	// object (the bucket, with a bucket key); S3 adds that pair itself.
	Context map[string]string
	// BucketKey is the request's x-amz-server-side-encryption-bucket-key-enabled; nil takes
	// the bucket's setting.
	BucketKey *bool
	// CustomerKey is the client's key of an SSE-C write; the caller owns and clears it.
	CustomerKey secret.Key
}

// Error classes of encryption requests.
var (
	// ErrSSEUnsupported is a request (or bucket default) for an encryption mode this build
	// does not implement.
	ErrSSEUnsupported = errors.New("object: server-side encryption mode not supported")
	// ErrInvalidEncryptionContext is a client context whose aws:s3:arn names something else.
	ErrInvalidEncryptionContext = errors.New("object: encryption context aws:s3:arn does not match the object")
	// ErrBucketKeyDSSE is a request for a bucket key with DSSE-KMS, which has none.
	ErrBucketKeyDSSE = errors.New("object: DSSE-KMS does not support bucket keys")
)

// s3ARNKey is the encryption-context pair S3 adds to every KMS call for an object.
const s3ARNKey = "aws:s3:arn"

// encryption is the resolved encryption of a new object or upload.
type encryption struct {
	alg       string
	keyID     string            // KMS modes: as requested ("" for alias/aws/s3)
	ctx       map[string]string // KMS modes: the client's pairs, without aws:s3:arn
	bucketKey bool
	// customerKey is the request's key of an SSE-C write (the caller of resolveSSE owns it).
	customerKey secret.Key
}

// resolveSSE resolves the encryption of a new object with identity id in bucket b: the
// request's, else the bucket default, else SSE-S3.
func resolveSSE(req SSE, b meta.Bucket, id sse.Identity) (encryption, error) {
	enc := encryption{alg: meta.SSES3}
	def := b.Encryption
	switch {
	case req.Algorithm != "":
		enc.alg, enc.keyID, enc.customerKey = req.Algorithm, req.KMSKeyID, req.CustomerKey
	case def != nil && def.Algorithm != "":
		enc.alg, enc.keyID = def.Algorithm, def.KMSMasterKeyID
	}
	if enc.alg != meta.SSEKMS && enc.alg != meta.SSEKMSDSSE {
		return enc, nil
	}
	if req.BucketKey != nil {
		enc.bucketKey = *req.BucketKey
	} else if def != nil {
		enc.bucketKey = def.BucketKeyEnabled && enc.alg == meta.SSEKMS
	}
	if enc.bucketKey && enc.alg == meta.SSEKMSDSSE {
		return encryption{}, ErrBucketKeyDSSE
	}
	want := objectARN(id)
	if enc.bucketKey {
		want = bucketARN(id.Bucket)
	}
	if v, ok := req.Context[s3ARNKey]; ok && v != want {
		return encryption{}, ErrInvalidEncryptionContext
	}
	if len(req.Context) > 0 {
		enc.ctx = maps.Clone(req.Context)
		delete(enc.ctx, s3ARNKey)
		if len(enc.ctx) == 0 {
			enc.ctx = nil
		}
	}
	return enc, nil
}

func objectARN(id sse.Identity) string { return "arn:aws:s3:::" + id.Bucket + "/" + id.Key }
func bucketARN(bucket string) string   { return "arn:aws:s3:::" + bucket }

// kmsContext is the encryption context of a KMS call for an object: the client's pairs and
// aws:s3:arn, which names the object, or the bucket for a bucket key (as S3 does).
func kmsContext(user map[string]string, arn string) map[string]string {
	ec := make(map[string]string, len(user)+1)
	maps.Copy(ec, user)
	ec[s3ARNKey] = arn
	return ec
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
	ec := map[string]string{s3ARNKey: objectARN(id)}
	if id.UploadID != "" {
		ec["coffer:upload-id"] = id.UploadID
	}
	return ec
}

// objectKeys are the keys of an object's stored streams. DSSE-KMS objects have two layers:
// the stream is encrypted under inner (the KMS data key) and that ciphertext again under
// outer (an S3-managed key sealed like an SSE-S3 key), so either key alone reveals nothing.
type objectKeys struct {
	inner secret.Key
	outer secret.Key // DSSE-KMS only
	// keyedETag: the ETag is a keyed digest, never the MD5 of the data (SSE-KMS, DSSE-KMS,
	// SSE-C).
	keyedETag bool
}

func (k objectKeys) Destroy() {
	k.inner.Destroy()
	k.outer.Destroy()
}

// newKey makes fresh object keys for identity id, encrypted as enc, and the encryption record
// that seals them. KMS calls run as the requester in ctx; an SSE-C key is sealed under the
// customer key and needs no key service.
func (s *Service) newKey(ctx context.Context, enc encryption, id sse.Identity) (objectKeys, *meta.Encryption, error) {
	if enc.alg == meta.SSEC {
		k, rec, err := newCustomerKey(enc.customerKey, id)
		if err != nil {
			return objectKeys{}, nil, err
		}
		return objectKeys{inner: k, keyedETag: true}, rec, nil
	}
	if s.keys == nil {
		return objectKeys{}, nil, ErrNoKeys
	}
	switch enc.alg {
	case meta.SSES3:
		k, sealed, err := s.newServiceKey(ctx, id)
		if err != nil {
			return objectKeys{}, nil, err
		}
		return objectKeys{inner: k}, &meta.Encryption{Algorithm: meta.SSES3, SealedKey: sealed}, nil
	case meta.SSEKMS, meta.SSEKMSDSSE:
		return s.newKMSKey(ctx, enc, id)
	}
	return objectKeys{}, nil, fmt.Errorf("%w: %s", ErrSSEUnsupported, enc.alg)
}

// newServiceKey makes a random key sealed under the SSE-S3 service key for id.
func (s *Service) newServiceKey(ctx context.Context, id sse.Identity) (secret.Key, meta.Sealed, error) {
	k := secret.Generate()
	sealed, err := s.keys.SealServiceKey(ctx, k, serviceContext(id))
	if err != nil {
		k.Destroy()
		return secret.Key{}, nil, fmt.Errorf("object: sealing the object key: %w", err)
	}
	return k, sealed, nil
}

// openKey opens the object keys of an encryption record made for identity id; ck is the
// customer key the request presents (zero for none), needed for SSE-C and refused otherwise.
// KMS calls run as the requester in ctx: at most one per call, none on a bucket-key cache hit.
func (s *Service) openKey(ctx context.Context, enc *meta.Encryption, id sse.Identity, ck secret.Key) (objectKeys, error) {
	if enc.Algorithm == meta.SSEC {
		k, err := openCustomerKey(enc, ck, id)
		if err != nil {
			return objectKeys{}, err
		}
		return objectKeys{inner: k, keyedETag: true}, nil
	}
	if err := checkCustomerKey(enc, ck); err != nil {
		return objectKeys{}, err
	}
	if s.keys == nil {
		return objectKeys{}, ErrNoKeys
	}
	switch enc.Algorithm {
	case meta.SSES3:
		k, err := s.keys.UnsealServiceKey(ctx, []byte(enc.SealedKey), serviceContext(id))
		if err != nil {
			return objectKeys{}, fmt.Errorf("%w: unsealing the object key: %w", ErrDamaged, err)
		}
		return objectKeys{inner: k}, nil
	case meta.SSEKMS, meta.SSEKMSDSSE:
		return s.openKMSKey(ctx, enc, id)
	}
	return objectKeys{}, fmt.Errorf("%w: unknown algorithm %q", ErrDamaged, enc.Algorithm)
}

// streamKey is the keys and identity a stored stream is encrypted under.
type streamKey struct {
	keys objectKeys
	id   sse.Identity
}

// encryptReader encrypts src for storage: one layer, or two for DSSE-KMS.
func (sk streamKey) encryptReader(src io.Reader) (io.Reader, error) {
	er, err := sse.NewEncryptReader(src, sk.keys.inner, sk.id)
	if err != nil || sk.keys.outer.IsZero() {
		return er, err
	}
	return sse.NewEncryptReader(er, sk.keys.outer, sk.id)
}

// plaintextSize is the plaintext size of a stored stream of n bytes.
func (sk streamKey) plaintextSize(n int64) (int64, error) {
	if !sk.keys.outer.IsZero() {
		var err error
		if n, err = sse.PlaintextSize(n); err != nil {
			return 0, err
		}
	}
	return sse.PlaintextSize(n)
}

// decryptReader opens a stored stream of size bytes for reading its plaintext. buf (nil or
// sse.ReadBufferSize bytes, see sse.NewReaderBuffer) serves the reader of the stored bytes: the
// outer layer of a DSSE-KMS object, whose inner layer then reads from memory into inner (nil or
// as buf).
func (k objectKeys) decryptReader(src io.ReaderAt, size int64, id sse.Identity, buf, inner []byte) (*sse.Reader, error) {
	if !k.outer.IsZero() {
		o, err := sse.NewReaderBuffer(src, size, k.outer, id, buf)
		if err != nil {
			return nil, err
		}
		return sse.NewReaderBuffer(o, o.Size(), k.inner, id, inner)
	}
	return sse.NewReaderBuffer(src, size, k.inner, id, buf)
}

// etag is the ETag of a stream with digest md5sum: its hex MD5, or for the KMS modes (whose
// ETag S3 documents as not the MD5 of the data) and SSE-C (whose ETag must not be: the MD5
// would let anyone holding the object's listing test guesses of its content) a digest keyed
// by the object key, opaque without the key. The keyed form is deterministic per data and
// key, so a re-uploaded part keeps its ETag.
func (sk streamKey) etag(md5sum []byte) string {
	if !sk.keys.keyedETag {
		return hex.EncodeToString(md5sum)
	}
	m := hmac.New(sha256.New, sk.keys.inner.RevealBytes())
	m.Write([]byte("coffer/etag/v1"))
	m.Write(md5sum)
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// encryptInline encrypts the plaintext of a small object for storage in its record, in one
// buffer of the exact size (two for DSSE-KMS's two layers).
func encryptInline(plain []byte, sk streamKey) ([]byte, error) {
	ct, err := sse.EncryptBytes(plain, sk.keys.inner, sk.id)
	if err != nil || sk.keys.outer.IsZero() {
		return ct, err
	}
	return sse.EncryptBytes(ct, sk.keys.outer, sk.id)
}

// damaged classes an error of reading a stored stream: a failed authentication is ErrDamaged,
// anything else (I/O) passes through.
func damaged(err error) error {
	if errors.Is(err, sse.ErrAuth) {
		return fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return err
}
