package kms

import (
	"context"
	"crypto/rand"
	"errors"
)

// EncryptInput holds Encrypt's parameters.
type EncryptInput struct {
	KeyId               string
	Plaintext           []byte
	EncryptionContext   map[string]string
	EncryptionAlgorithm string
	GrantTokens         []string
	DryRun              bool
}

// EncryptOutput is Encrypt's result. KeyId is the key ARN.
type EncryptOutput struct {
	CiphertextBlob      []byte
	KeyId               string
	EncryptionAlgorithm string
}

var errDryRun = &Error{Kind: ErrDryRun, Message: "The request would have succeeded, but the DryRun option is set."}

// cryptoKey resolves a key for a cryptographic operation a, authorizes it, and checks the
// key's state and usage.
func (s *Service) cryptoKey(ctx context.Context, c Caller, keyID string, o op, usage string, a ask) (*entry, error) {
	e, err := s.resolve(ctx, c, keyID, optsAny, a)
	if err != nil {
		return nil, err
	}
	if err := s.checkState(e.key, o); err != nil {
		return nil, err
	}
	if err := s.needUsage(e.key, usage, usageOpName(a.op)); err != nil {
		return nil, err
	}
	return e, nil
}

// Encrypt encrypts up to 4096 bytes under a symmetric key (or an RSA key with OAEP).
func (s *Service) Encrypt(ctx context.Context, c Caller, in EncryptInput) (EncryptOutput, error) {
	return s.encrypt(ctx, c, in, "Encrypt")
}

// encrypt is Encrypt authorized as opName (Encrypt, or ReEncryptTo for ReEncrypt).
func (s *Service) encrypt(ctx context.Context, c Caller, in EncryptInput, opName string) (EncryptOutput, error) {
	if len(in.Plaintext) == 0 {
		return EncryptOutput{}, errValidation("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(in.Plaintext) > 4096 {
		return EncryptOutput{}, errValidation("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096")
	}
	a := askFor(opName).withEC(in.EncryptionContext).withTokens(in.GrantTokens).
		with(condEncryptionAlgorithm, algorithmOrDefault(in.EncryptionAlgorithm))
	e, err := s.cryptoKey(ctx, c, in.KeyId, opCrypto, UsageEncryptDecrypt, a)
	if err != nil {
		return EncryptOutput{}, err
	}
	if e.key.Spec != SpecSymmetric {
		return s.encryptRSA(ctx, e, in)
	}
	if in.EncryptionAlgorithm != "" && in.EncryptionAlgorithm != SpecSymmetric {
		return EncryptOutput{}, s.badAlgorithm(e.key, in.EncryptionAlgorithm)
	}
	if in.DryRun {
		return EncryptOutput{}, errDryRun
	}
	blob, err := s.seal(ctx, e, in.EncryptionContext, in.Plaintext)
	if err != nil {
		return EncryptOutput{}, err
	}
	return EncryptOutput{CiphertextBlob: blob, KeyId: e.arn, EncryptionAlgorithm: SpecSymmetric}, nil
}

func (s *Service) badAlgorithm(k *Key, alg string) error {
	return errf(ErrInvalidKeyUsage, "Algorithm %s is incompatible with key spec %s.", alg, k.Spec)
}

// seal makes a ciphertext blob under the current version of a symmetric key.
func (s *Service) seal(ctx context.Context, e *entry, ec map[string]string, plaintext []byte) ([]byte, error) {
	aad, err := canonicalContext(ec)
	if err != nil {
		return nil, errValidation("Encryption context is too large.")
	}
	v := e.key.current()
	if v == nil {
		return nil, s.stateErr(e.key, string(StatePendingImport))
	}
	if e.key.CustomKeyStoreID != "" {
		h := blobHeader{Version: v.Number}
		h.KeyID, _ = parseUUID(e.key.ID)
		rand.Read(h.Seed[:])
		return s.sealInHSM(ctx, e, h, aad, plaintext)
	}
	m, err := s.material(ctx, e, v)
	if err != nil {
		return nil, err
	}
	h := blobHeader{Version: v.Number}
	h.KeyID, _ = parseUUID(e.key.ID)
	rand.Read(h.Seed[:])
	blob, err := sealBlobPRK(m.blobPRK.RevealBytes(), h, aad, plaintext)
	if err != nil {
		return nil, s.internal("seal blob", err)
	}
	return blob, nil
}

// DecryptInput holds Decrypt's parameters.
type DecryptInput struct {
	CiphertextBlob      []byte
	EncryptionContext   map[string]string
	KeyId               string
	EncryptionAlgorithm string
	GrantTokens         []string
	DryRun              bool
}

// DecryptOutput is Decrypt's result. KeyId is the key ARN.
type DecryptOutput struct {
	KeyId               string
	Plaintext           []byte
	EncryptionAlgorithm string
	KeyMaterialId       string
}

// Decrypt decrypts a ciphertext blob. KeyId is needed only for RSA ciphertexts; when given
// for a symmetric blob it must name the key that made it (IncorrectKeyException).
func (s *Service) Decrypt(ctx context.Context, c Caller, in DecryptInput) (DecryptOutput, error) {
	return s.decrypt(ctx, c, in, "Decrypt")
}

// decrypt is Decrypt authorized as opName (Decrypt, or ReEncryptFrom for ReEncrypt).
func (s *Service) decrypt(ctx context.Context, c Caller, in DecryptInput, opName string) (DecryptOutput, error) {
	if len(in.CiphertextBlob) == 0 || len(in.CiphertextBlob) > blobMaxLen {
		return DecryptOutput{}, errConstraint("", "ciphertextBlob", "Member must have length between 1 and 6144")
	}
	a := askFor(opName).withEC(in.EncryptionContext).withTokens(in.GrantTokens).
		with(condEncryptionAlgorithm, algorithmOrDefault(in.EncryptionAlgorithm))
	var named *entry
	if in.KeyId != "" {
		e, err := s.resolve(ctx, c, in.KeyId, optsAny, a)
		if err != nil {
			return DecryptOutput{}, err
		}
		named = e
		if e.key.Spec != SpecSymmetric {
			if err := s.checkState(e.key, opCrypto); err != nil {
				return DecryptOutput{}, err
			}
			if err := s.needUsage(e.key, UsageEncryptDecrypt, "Decrypt"); err != nil {
				return DecryptOutput{}, err
			}
			return s.decryptRSA(ctx, e, in)
		}
	}
	if in.EncryptionAlgorithm != "" && in.EncryptionAlgorithm != SpecSymmetric {
		return DecryptOutput{}, errf(ErrInvalidCiphertext, "")
	}
	pt, e, v, err := s.open(ctx, c, named, in.CiphertextBlob, a, in.DryRun)
	if err != nil {
		return DecryptOutput{}, err
	}
	return DecryptOutput{KeyId: e.arn, Plaintext: pt, EncryptionAlgorithm: SpecSymmetric, KeyMaterialId: v.MaterialID}, nil
}

// open parses and opens a symmetric blob for caller c, authorizing a on the key that made it.
// named, when not nil, is the (authorized) key the caller said made it. A blob of a key the
// caller cannot see (no such key, a service-owned key) is InvalidCiphertextException; one of
// a key the caller may not use is AccessDeniedException naming the key, as in AWS, whose
// ciphertexts carry their key's ARN.
func (s *Service) open(ctx context.Context, c Caller, named *entry, blob []byte, a ask, dryRun bool) ([]byte, *entry, *Version, error) {
	h, sealed, err := parseBlob(blob)
	if err != nil {
		return nil, nil, nil, errCiphertext
	}
	id := formatUUID(h.KeyID)
	if named != nil && named.key.ID != id {
		return nil, nil, nil, errf(ErrIncorrectKey, "The key ID in the request does not identify a CMK that can perform this operation.")
	}
	e := named
	if e == nil {
		e, err = s.load(ctx, id)
		if errors.Is(err, ErrStoreDamaged) {
			// The blob names a key whose record is damaged: say so, as for damaged material.
			return nil, nil, nil, s.internal("load key", err)
		}
		if err != nil || e.key.Owned {
			return nil, nil, nil, errCiphertext
		}
		if err := s.authorize(ctx, c, e, a); err != nil {
			return nil, nil, nil, err
		}
	}
	return s.openWith(ctx, e, h, sealed, a.ec, dryRun)
}

func (s *Service) openWith(ctx context.Context, e *entry, h blobHeader, sealed []byte, ec map[string]string, dryRun bool) ([]byte, *entry, *Version, error) {
	if err := s.checkState(e.key, opCrypto); err != nil {
		return nil, nil, nil, err
	}
	if err := s.needUsage(e.key, UsageEncryptDecrypt, "Decrypt"); err != nil {
		return nil, nil, nil, err
	}
	if dryRun {
		return nil, nil, nil, errDryRun
	}
	v := e.key.version(h.Version)
	if v == nil {
		return nil, nil, nil, errCiphertext
	}
	aad, err := canonicalContext(ec)
	if err != nil {
		return nil, nil, nil, errCiphertext
	}
	if e.key.CustomKeyStoreID != "" {
		pt, err := s.openInHSM(ctx, e, h, sealed, aad)
		if err != nil {
			return nil, nil, nil, err
		}
		return pt, e, v, nil
	}
	m, err := s.material(ctx, e, v)
	if err != nil {
		return nil, nil, nil, err
	}
	pt, err := openBlobPRK(m.blobPRK.RevealBytes(), h, sealed, aad)
	if err != nil {
		return nil, nil, nil, errCiphertext
	}
	return pt, e, v, nil
}

// ReEncryptInput holds ReEncrypt's parameters.
type ReEncryptInput struct {
	CiphertextBlob                 []byte
	SourceEncryptionContext        map[string]string
	SourceKeyId                    string
	DestinationKeyId               string
	DestinationEncryptionContext   map[string]string
	SourceEncryptionAlgorithm      string
	DestinationEncryptionAlgorithm string
	GrantTokens                    []string
	DryRun                         bool
}

// ReEncryptOutput is ReEncrypt's result.
type ReEncryptOutput struct {
	CiphertextBlob                 []byte
	SourceKeyId                    string
	KeyId                          string
	SourceEncryptionAlgorithm      string
	DestinationEncryptionAlgorithm string
}

// ReEncrypt decrypts a blob and encrypts its plaintext under another key (or context) without
// returning the plaintext.
func (s *Service) ReEncrypt(ctx context.Context, c Caller, in ReEncryptInput) (ReEncryptOutput, error) {
	a := askFor("ReEncryptTo").withEC(in.DestinationEncryptionContext).withTokens(in.GrantTokens).
		with(condEncryptionAlgorithm, algorithmOrDefault(in.DestinationEncryptionAlgorithm))
	dst, err := s.cryptoKey(ctx, c, in.DestinationKeyId, opCrypto, UsageEncryptDecrypt, a)
	if err != nil {
		return ReEncryptOutput{}, err
	}
	dec, err := s.decrypt(ctx, c, DecryptInput{
		CiphertextBlob: in.CiphertextBlob, EncryptionContext: in.SourceEncryptionContext,
		KeyId: in.SourceKeyId, EncryptionAlgorithm: in.SourceEncryptionAlgorithm, GrantTokens: in.GrantTokens, DryRun: in.DryRun,
	}, "ReEncryptFrom")
	if err != nil {
		return ReEncryptOutput{}, err
	}
	defer clear(dec.Plaintext)
	enc, err := s.encrypt(ctx, c, EncryptInput{
		KeyId: dst.arn, Plaintext: dec.Plaintext, EncryptionContext: in.DestinationEncryptionContext,
		EncryptionAlgorithm: in.DestinationEncryptionAlgorithm, GrantTokens: in.GrantTokens,
	}, "ReEncryptTo")
	if err != nil {
		return ReEncryptOutput{}, err
	}
	return ReEncryptOutput{CiphertextBlob: enc.CiphertextBlob, SourceKeyId: dec.KeyId, KeyId: enc.KeyId,
		SourceEncryptionAlgorithm: dec.EncryptionAlgorithm, DestinationEncryptionAlgorithm: enc.EncryptionAlgorithm}, nil
}

// GenerateDataKeyInput holds GenerateDataKey's parameters: exactly one of KeySpec (AES_128,
// AES_256) and NumberOfBytes (1–1024).
type GenerateDataKeyInput struct {
	KeyId             string
	KeySpec           string
	NumberOfBytes     int
	EncryptionContext map[string]string
	GrantTokens       []string
	DryRun            bool
}

// GenerateDataKeyOutput is GenerateDataKey's result; Plaintext is nil for the
// WithoutPlaintext variant.
type GenerateDataKeyOutput struct {
	CiphertextBlob []byte
	Plaintext      []byte
	KeyId          string
	KeyMaterialId  string
}

func dataKeyLen(spec string, n int) (int, error) {
	switch {
	case spec != "" && n != 0:
		return 0, errValidation("Please specify either number of bytes or key spec.")
	case spec == "AES_256":
		return 32, nil
	case spec == "AES_128":
		return 16, nil
	case spec != "":
		return 0, errConstraint(spec, "keySpec", "Member must satisfy enum value set: [AES_256, AES_128]")
	case n == 0:
		return 0, errValidation("Please specify either number of bytes or key spec.")
	case n < 1:
		return 0, errConstraint(n, "numberOfBytes", "Member must have value greater than or equal to 1")
	case n > 1024:
		return 0, errConstraint(n, "numberOfBytes", "Member must have value less than or equal to 1024")
	}
	return n, nil
}

// GenerateDataKey returns a fresh data key in plaintext and encrypted under a symmetric key.
func (s *Service) GenerateDataKey(ctx context.Context, c Caller, in GenerateDataKeyInput) (GenerateDataKeyOutput, error) {
	return s.generateDataKey(ctx, c, in, true, "GenerateDataKey")
}

// GenerateDataKeyWithoutPlaintext is GenerateDataKey that returns only the encrypted key.
func (s *Service) GenerateDataKeyWithoutPlaintext(ctx context.Context, c Caller, in GenerateDataKeyInput) (GenerateDataKeyOutput, error) {
	return s.generateDataKey(ctx, c, in, false, "GenerateDataKeyWithoutPlaintext")
}

func (s *Service) generateDataKey(ctx context.Context, c Caller, in GenerateDataKeyInput, plain bool, opName string) (GenerateDataKeyOutput, error) {
	n, err := dataKeyLen(in.KeySpec, in.NumberOfBytes)
	if err != nil {
		return GenerateDataKeyOutput{}, err
	}
	a := askFor(opName).withEC(in.EncryptionContext).withTokens(in.GrantTokens).
		with(condEncryptionAlgorithm, SpecSymmetric)
	e, err := s.cryptoKey(ctx, c, in.KeyId, opCrypto, UsageEncryptDecrypt, a)
	if err != nil {
		return GenerateDataKeyOutput{}, err
	}
	if e.key.Spec != SpecSymmetric {
		return GenerateDataKeyOutput{}, errf(ErrInvalidKeyUsage, "%s key spec is %s which is not valid for GenerateDataKey.", s.arn(e.key), e.key.Spec)
	}
	if in.DryRun {
		return GenerateDataKeyOutput{}, errDryRun
	}
	return s.dataKey(ctx, e, n, in.EncryptionContext, plain)
}

func (s *Service) dataKey(ctx context.Context, e *entry, n int, ec map[string]string, plain bool) (GenerateDataKeyOutput, error) {
	dk := make([]byte, n)
	rand.Read(dk)
	blob, err := s.seal(ctx, e, ec, dk)
	if err != nil {
		clear(dk)
		return GenerateDataKeyOutput{}, err
	}
	out := GenerateDataKeyOutput{CiphertextBlob: blob, KeyId: e.arn, KeyMaterialId: e.key.current().MaterialID}
	if plain {
		out.Plaintext = dk
	} else {
		clear(dk)
	}
	return out, nil
}

// GenerateRandom returns n (1–1024) random bytes, from the HSM of a custom key store when
// customKeyStoreID names one.
func (s *Service) GenerateRandom(ctx context.Context, c Caller, n int, customKeyStoreID string) ([]byte, error) {
	switch {
	case n == 0:
		return nil, errValidation("NumberOfBytes is required.")
	case n < 1:
		return nil, errConstraint(n, "numberOfBytes", "Member must have value greater than or equal to 1")
	case n > 1024:
		return nil, errConstraint(n, "numberOfBytes", "Member must have value less than or equal to 1024")
	}
	if err := s.authorizeIdentity(c, "GenerateRandom", "*", nil); err != nil {
		return nil, err
	}
	if customKeyStoreID != "" {
		return s.randomInKeyStore(ctx, c, customKeyStoreID, n)
	}
	b := make([]byte, n)
	rand.Read(b)
	return b, nil
}

// GenerateDataKeyOwned makes a data key of n bytes under a service-owned key (see OwnedKey).
func (s *Service) GenerateDataKeyOwned(ctx context.Context, keyID string, n int, ec map[string]string) (GenerateDataKeyOutput, error) {
	e, err := s.load(ctx, keyID)
	if err != nil || !e.key.Owned {
		return GenerateDataKeyOutput{}, errf(ErrNotFound, "owned key does not exist")
	}
	if _, err := dataKeyLen("", n); err != nil {
		return GenerateDataKeyOutput{}, err
	}
	return s.dataKey(ctx, e, n, ec, true)
}

// EncryptOwned seals plaintext (at most 4096 bytes) under the current version of a
// service-owned key, bound to the encryption context ec. The blob names the key and its
// version, so DecryptOwned opens it after any number of rotations.
func (s *Service) EncryptOwned(ctx context.Context, keyID string, plaintext []byte, ec map[string]string) ([]byte, error) {
	e, err := s.load(ctx, keyID)
	if err != nil || !e.key.Owned {
		return nil, errf(ErrNotFound, "owned key does not exist")
	}
	if len(plaintext) == 0 || len(plaintext) > 4096 {
		return nil, errConstraint("", "plaintext", "Member must have length between 1 and 4096")
	}
	if err := s.checkState(e.key, opCrypto); err != nil {
		return nil, err
	}
	return s.seal(ctx, e, ec, plaintext)
}

// DecryptOwned opens a blob made under a service-owned key.
func (s *Service) DecryptOwned(ctx context.Context, blob []byte, ec map[string]string) ([]byte, error) {
	h, sealed, err := parseBlob(blob)
	if err != nil {
		return nil, errCiphertext
	}
	e, err := s.load(ctx, formatUUID(h.KeyID))
	if err != nil || !e.key.Owned {
		return nil, errCiphertext
	}
	pt, _, _, err := s.openWith(ctx, e, h, sealed, ec, false)
	return pt, err
}

// algorithmOrDefault is kms:EncryptionAlgorithm of a request: the algorithm named, or the
// symmetric default when none is.
func algorithmOrDefault(alg string) string {
	if alg == "" {
		return SpecSymmetric
	}
	return alg
}

// usageOpName is the operation an InvalidKeyUsage message names: AWS names ReEncrypt, not
// its two halves, and the data key operations by their plain names.
func usageOpName(op string) string {
	switch op {
	case "ReEncryptFrom", "ReEncryptTo":
		return "ReEncrypt"
	case "GenerateDataKeyWithoutPlaintext":
		return "GenerateDataKey"
	case "GenerateDataKeyPairWithoutPlaintext":
		return "GenerateDataKeyPair"
	}
	return op
}
