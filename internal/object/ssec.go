package object

import (
	"errors"
	"fmt"
	"slices"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/sse"
)

// SSE-C: the client sends its own 256-bit key with every request that writes or reads the
// object. A fresh object key encrypts the data as for every mode; it is sealed under the
// customer key (internal/sse SPEC.md §3, mode SSE-C), and the sealed key carries the salted
// HMAC check of §3.2 that recognises the customer key later. Neither the customer key nor its
// plain MD5 is stored anywhere.

// Error classes of SSE-C requests.
var (
	// ErrSSECBlocked: the bucket's BlockedEncryptionTypes forbid SSE-C writes (S3: 403).
	ErrSSECBlocked = errors.New("object: the bucket blocks SSE-C writes")
	// ErrSSECKeyRequired: a read of an SSE-C object without the customer key.
	ErrSSECKeyRequired = errors.New("object: the object is encrypted with a customer key; the key is required")
	// ErrSSECWrongKey: a read of an SSE-C object with another key than it was written with.
	ErrSSECWrongKey = errors.New("object: wrong customer key")
	// ErrSSECNotApplicable: a customer key sent for an object that is not SSE-C.
	ErrSSECNotApplicable = errors.New("object: a customer key was sent for an object not encrypted with one")
	// ErrSSECPartKeyRequired: a part of an SSE-C upload without the customer key.
	ErrSSECPartKeyRequired = errors.New("object: the upload is encrypted with a customer key; every part needs it")
	// ErrSSECKeyMismatch: a part or completion of an SSE-C upload with another key than the
	// upload was started with.
	ErrSSECKeyMismatch = errors.New("object: the customer key differs from the upload's")
)

// BlockedSSEC is the BlockedEncryptionTypes value that blocks SSE-C writes; NoneBlocked
// allows every type.
const (
	BlockedSSEC = "SSE-C"
	NoneBlocked = "NONE"
)

// BlocksSSEC reports whether bucket b refuses SSE-C writes. Only a record that says so
// blocks: buckets made before the setting existed keep accepting SSE-C, as AWS left the
// buckets of accounts that used SSE-C.
func BlocksSSEC(b Bucket) bool {
	return b.Encryption != nil && slices.Contains(b.Encryption.BlockedEncryptionTypes, BlockedSSEC)
}

// checkBlocked refuses an SSE-C write to a bucket that blocks it.
func checkBlocked(req SSE, b meta.Bucket) error {
	if req.Algorithm == meta.SSEC && BlocksSSEC(bucketOf(b)) {
		return ErrSSECBlocked
	}
	return nil
}

// newCustomerKey makes a fresh object key for identity id and seals it under the customer
// key ck.
func newCustomerKey(ck secret.Key, id sse.Identity) (secret.Key, *meta.Encryption, error) {
	if ck.IsZero() {
		return secret.Key{}, nil, ErrSSECKeyRequired
	}
	k := secret.Generate()
	sealed, err := sse.SealKey(ck, k, sse.ModeSSEC, id)
	if err != nil {
		k.Destroy()
		return secret.Key{}, nil, fmt.Errorf("object: sealing the object key: %w", err)
	}
	return k, &meta.Encryption{Algorithm: meta.SSEC, SealedKey: sealed.Bytes()}, nil
}

// openCustomerKey unseals the object key of an SSE-C record with the customer key ck.
func openCustomerKey(enc *meta.Encryption, ck secret.Key, id sse.Identity) (secret.Key, error) {
	if err := checkCustomerKey(enc, ck); err != nil {
		return secret.Key{}, err
	}
	k, err := sse.UnsealKey(enc.SealedKey, ck, sse.ModeSSEC, id)
	if err != nil {
		return secret.Key{}, fmt.Errorf("%w: unsealing the object key: %w", ErrDamaged, err)
	}
	return k, nil
}

// CheckCustomerKey checks the customer key ck (zero for none) a read presents for an object
// or upload encrypted as enc describes, without decrypting anything: an SSE-C object needs
// its key (ErrSSECKeyRequired, ErrSSECWrongKey), any other object takes none
// (ErrSSECNotApplicable). Open checks the same way.
func checkCustomerKey(enc *meta.Encryption, ck secret.Key) error {
	ssec := enc != nil && enc.Algorithm == meta.SSEC
	switch {
	case !ssec && !ck.IsZero():
		return ErrSSECNotApplicable
	case !ssec:
		return nil
	case ck.IsZero():
		return ErrSSECKeyRequired
	}
	s, err := sse.ParseSealedKey(enc.SealedKey)
	if err != nil {
		return fmt.Errorf("%w: SSE-C sealed key: %w", ErrDamaged, err)
	}
	switch err := s.CheckCustomerKey(ck); {
	case errors.Is(err, sse.ErrWrongKey):
		return ErrSSECWrongKey
	case err != nil:
		return fmt.Errorf("%w: SSE-C sealed key: %w", ErrDamaged, err)
	}
	return nil
}

// checkUploadCustomerKey is checkCustomerKey for the parts and completion of an upload, with
// the errors S3 gives there.
func checkUploadCustomerKey(u meta.Upload, ck secret.Key) error {
	switch err := checkCustomerKey(u.Encryption, ck); {
	case errors.Is(err, ErrSSECKeyRequired):
		return ErrSSECPartKeyRequired
	case errors.Is(err, ErrSSECWrongKey):
		return ErrSSECKeyMismatch
	default:
		return err
	}
}

// CheckCustomerKey checks the customer key ck (zero for none) a read of o presents, without
// decrypting anything: an SSE-C object needs its key (ErrSSECKeyRequired, ErrSSECWrongKey),
// any other object takes none (ErrSSECNotApplicable). HEAD and GetObjectAttributes use it;
// Open checks the same way.
func (o Object) CheckCustomerKey(ck secret.Key) error {
	return checkCustomerKey(o.rec.Encryption, ck)
}
