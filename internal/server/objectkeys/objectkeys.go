// Package objectkeys adapts the key service (internal/kms) to the narrow interface the object
// service declares (object.Keys), so the object layer never sees KMS key material or types.
package objectkeys

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
)

// ServiceKeyName names the service-owned KMS key that seals SSE-S3 object keys.
const ServiceKeyName = "coffer/sse-s3"

// managedS3Alias is the AWS managed key SSE-KMS uses when the client names none.
const managedS3Alias = "alias/aws/s3"

// Keys implements object.Keys over a kms.Service.
//
// SSE-S3 keys are sealed with kms.EncryptOwned under the service-owned key ServiceKeyName,
// which rotates automatically; each sealed key is a KMS ciphertext blob that names the key
// version it was made with, so every older object keeps opening after rotations. The KMS keeps
// the unsealed material of each key version in memory once used, so an SSE-S3 GET costs one
// in-process AES-GCM open and no store round trip.
//
// SSE-KMS data keys are made and opened by GenerateDataKey and Decrypt as the requester, with
// kms:ViaService = s3.<region>.amazonaws.com.
//
// Every KMS call made here is on a requester's behalf and is recorded as CloudTrail records
// the KMS calls S3 makes: a KMS event (GenerateDataKey, Decrypt, Encrypt; SSE-S3 seals as
// Encrypt and unseals as Decrypt under the service key) with the requester's identity invoked
// by s3.amazonaws.com, the encryption context naming the object (aws:s3:arn), and the key as
// its resource — kept before S3 goes on, so a request whose KMS records cannot be kept fails.
// The server's own uses of service keys that are on nobody's behalf (sealing IAM credentials,
// the audit signing key) do not come through here and are not recorded.
type Keys struct {
	kms        *kms.Service
	audit      audit.Recorder
	viaService string

	mu    sync.Mutex
	owned string // id of the service key, once known

	dataKeys, unwraps, wraps atomic.Int64
	// observe, when set, is told each cryptographic call's operation and result.
	observe func(operation, result string)
}

var _ object.Keys = (*Keys)(nil)

// New returns Keys over svc, recording its calls to rec (audit.Discard when nil).
func New(svc *kms.Service, rec audit.Recorder) *Keys {
	if rec == nil {
		rec = audit.Discard{}
	}
	return &Keys{kms: svc, audit: rec, viaService: "s3." + svc.Region() + ".amazonaws.com"}
}

// Calls counts the cryptographic KMS calls made on requesters' behalf: GenerateDataKey,
// Decrypt and Encrypt. SSE-S3 seals and key-state checks are not among them.
type Calls struct{ GenerateDataKey, Decrypt, Encrypt int64 }

// Observe has f told, after each cryptographic KMS call (GenerateDataKey, Decrypt, Encrypt),
// its operation and result: "OK" or the KMS exception. Call it before k is used.
func (k *Keys) Observe(f func(operation, result string)) { k.observe = f }

// observed tells the observer of a call's result.
func (k *Keys) observed(operation string, err error) {
	if k.observe != nil {
		k.observe(operation, result(err))
	}
}

// result names a KMS call's outcome as the KMS API would: OK, or its exception.
func result(err error) string {
	if err == nil {
		return "OK"
	}
	var ke *kms.Error
	if errors.As(err, &ke) {
		for _, x := range exceptions {
			if errors.Is(ke.Kind, x.class) {
				return x.name
			}
		}
	}
	switch {
	case errors.Is(err, kms.ErrInvalidCiphertext):
		return "InvalidCiphertextException"
	case errors.Is(err, kms.ErrIncorrectKey):
		return "IncorrectKeyException"
	}
	return "KMSInternalException"
}

// Calls returns the calls made so far.
func (k *Keys) Calls() Calls {
	return Calls{GenerateDataKey: k.dataKeys.Load(), Decrypt: k.unwraps.Load(), Encrypt: k.wraps.Load()}
}

// serviceKey returns the id of the SSE-S3 service key, creating the key on first use.
func (k *Keys) serviceKey(ctx context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.owned != "" {
		return k.owned, nil
	}
	id, err := k.kms.OwnedKey(ctx, ServiceKeyName)
	if err != nil {
		return "", fmt.Errorf("objectkeys: SSE-S3 service key: %w", err)
	}
	k.owned = id
	return id, nil
}

// SealServiceKey implements object.Keys.
func (k *Keys) SealServiceKey(ctx context.Context, objectKey secret.Key, ec map[string]string) ([]byte, error) {
	id, err := k.serviceKey(ctx)
	if err != nil {
		return nil, err
	}
	sealed, err := k.kms.EncryptOwned(ctx, id, objectKey.RevealBytes(), ec)
	if err := k.recordOwned(ctx, "Encrypt", id, ec, err); err != nil {
		return nil, err
	}
	return sealed, err
}

// recordOwned records an SSE-S3 seal or unseal under the service key id as the KMS call it
// stands for, for the requester of ctx. Calls without a requester (none so far) are not
// recorded.
func (k *Keys) recordOwned(ctx context.Context, name, id string, ec map[string]string, callErr error) error {
	r := iam.RequestFrom(ctx)
	if r == nil {
		return nil
	}
	arn := k.kms.KeyARN("", id)
	kc := &kmsCall{name: name, params: map[string]any{"keyId": arn, "encryptionContext": encryptionContext(ec),
		"encryptionAlgorithm": kms.SpecSymmetric}, keys: kms.KeysUsed{ARNs: []string{arn}}}
	return k.record(ctx, object.Caller{Account: r.Principal.AccountID, ARN: r.Principal.ARN}, kc, callErr)
}

// UnsealServiceKey implements object.Keys.
func (k *Keys) UnsealServiceKey(ctx context.Context, sealed []byte, ec map[string]string) (secret.Key, error) {
	raw, err := k.kms.DecryptOwned(ctx, sealed, ec)
	if id, kerr := k.serviceKey(ctx); kerr == nil {
		if rerr := k.recordOwned(ctx, "Decrypt", id, ec, err); rerr != nil {
			clear(raw)
			return secret.Key{}, rerr
		}
	}
	if err != nil {
		return secret.Key{}, err
	}
	defer clear(raw) // best effort
	return secret.FromBytes(raw)
}

// caller is the requester S3 calls the KMS for, as the KMS authorizes it: the request
// identity (principal, identity policies, global condition keys) when the wire layer gave
// one, with kms:ViaService naming S3.
func (k *Keys) caller(ctx context.Context, c object.Caller) kms.Caller {
	kc := kms.Caller{Account: c.Account, ARN: c.ARN}
	if r := iam.RequestFrom(ctx); r != nil && r.Principal.ARN == c.ARN {
		kc = kms.CallerFrom(r)
	}
	kc.ViaService = k.viaService
	return kc
}

// DataKey implements object.Keys.
func (k *Keys) DataKey(ctx context.Context, c object.Caller, keyID string, ec map[string]string) (object.DataKey, error) {
	if keyID == "" {
		keyID = managedS3Alias
	}
	k.dataKeys.Add(1)
	kc, kctx := newCall(ctx, "GenerateDataKey", map[string]any{"keyId": keyID, "encryptionContext": encryptionContext(ec), "keySpec": "AES_256"})
	out, err := k.kms.GenerateDataKey(kctx, k.caller(ctx, c),
		kms.GenerateDataKeyInput{KeyId: keyID, KeySpec: "AES_256", EncryptionContext: ec})
	k.observed("GenerateDataKey", err)
	if rerr := k.record(ctx, c, kc, err); rerr != nil {
		clear(out.Plaintext)
		return object.DataKey{}, rerr
	}
	if err != nil {
		return object.DataKey{}, classify(err)
	}
	return object.DataKey{KeyARN: out.KeyId, Plaintext: secret.TakeBytes(out.Plaintext), Wrapped: out.CiphertextBlob}, nil
}

// Unwrap implements object.Keys.
func (k *Keys) Unwrap(ctx context.Context, c object.Caller, keyARN string, wrapped []byte, ec map[string]string) (secret.Bytes, error) {
	k.unwraps.Add(1)
	kc, kctx := newCall(ctx, "Decrypt", map[string]any{"keyId": keyARN, "encryptionContext": encryptionContext(ec), "encryptionAlgorithm": kms.SpecSymmetric})
	out, err := k.kms.Decrypt(kctx, k.caller(ctx, c),
		kms.DecryptInput{CiphertextBlob: wrapped, KeyId: keyARN, EncryptionContext: ec})
	k.observed("Decrypt", err)
	if rerr := k.record(ctx, c, kc, err); rerr != nil {
		clear(out.Plaintext)
		return secret.Bytes{}, rerr
	}
	if err != nil {
		return secret.Bytes{}, classify(err)
	}
	return secret.TakeBytes(out.Plaintext), nil
}

// Wrap implements object.Keys with Encrypt, asking for SYMMETRIC_DEFAULT so that an
// asymmetric key is refused (InvalidKeyUsageException) as GenerateDataKey refuses it.
func (k *Keys) Wrap(ctx context.Context, c object.Caller, keyID string, key secret.Key, ec map[string]string) (string, []byte, error) {
	k.wraps.Add(1)
	kc, kctx := newCall(ctx, "Encrypt", map[string]any{"keyId": keyID, "encryptionContext": encryptionContext(ec), "encryptionAlgorithm": kms.SpecSymmetric})
	out, err := k.kms.Encrypt(kctx, k.caller(ctx, c), kms.EncryptInput{KeyId: keyID, Plaintext: key.RevealBytes(),
		EncryptionContext: ec, EncryptionAlgorithm: kms.SpecSymmetric})
	k.observed("Encrypt", err)
	if rerr := k.record(ctx, c, kc, err); rerr != nil {
		return "", nil, rerr
	}
	if err != nil {
		return "", nil, classify(err)
	}
	return out.KeyId, out.CiphertextBlob, nil
}

// CheckKey implements object.Keys.
func (k *Keys) CheckKey(ctx context.Context, c object.Caller, keyARN string, write bool, ec map[string]string) error {
	return classify(k.kms.CheckUsable(ctx, k.caller(ctx, c), keyARN, write, ec))
}

// exceptions names the KMS error classes S3 passes on as KMS.<exception>.
var exceptions = []struct {
	class error
	name  string
}{
	{kms.ErrNotFound, "NotFoundException"},
	{kms.ErrDisabled, "DisabledException"},
	{kms.ErrInvalidState, "KMSInvalidStateException"},
	{kms.ErrInvalidKeyUsage, "InvalidKeyUsageException"},
	{kms.ErrInvalidArn, "InvalidArnException"},
	{kms.ErrValidation, "ValidationException"},
	{kms.ErrAccessDenied, "AccessDeniedException"},
	{kms.ErrNotAuthorized, "AccessDeniedException"},
}

// classify turns a KMS failure into the object layer's classes: a key-state or permission
// failure is *object.KMSError with the KMS's message; a wrapped key that does not open is
// object.ErrDamaged (a tampered or moved record); anything else passes through.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ke *kms.Error
	if errors.As(err, &ke) {
		for _, x := range exceptions {
			if errors.Is(ke.Kind, x.class) {
				return &object.KMSError{Exception: x.name, Message: ke.Message}
			}
		}
	}
	if errors.Is(err, kms.ErrInvalidCiphertext) || errors.Is(err, kms.ErrIncorrectKey) {
		return fmt.Errorf("%w: the KMS did not open the wrapped key: %w", object.ErrDamaged, err)
	}
	return err
}
