package kms

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"hash"
	"strings"
	"time"

	"github.com/coffer/coffer/internal/kms/keywrap"
)

const importParamsTTL = 24 * time.Hour

// ImportParametersOutput is GetParametersForImport's result.
type ImportParametersOutput struct {
	KeyId             string
	ImportToken       []byte
	PublicKey         []byte
	ParametersValidTo time.Time
}

func wrapHash(alg string) (func() hash.Hash, bool, bool) {
	switch alg {
	case "RSAES_OAEP_SHA_1":
		return sha1.New, false, true
	case "RSAES_OAEP_SHA_256":
		return sha256.New, false, true
	case "RSA_AES_KEY_WRAP_SHA_1":
		return sha1.New, true, true
	case "RSA_AES_KEY_WRAP_SHA_256":
		return sha256.New, true, true
	}
	return nil, false, false
}

func wrappingBits(spec string) int {
	switch spec {
	case "RSA_2048":
		return 2048
	case "RSA_3072":
		return 3072
	case "RSA_4096":
		return 4096
	}
	return 0
}

// import token: "cit1." + base64url(key id || 0x00 || token id).
func importToken(keyID string, tokenID []byte) []byte {
	return []byte("cit1." + base64.RawURLEncoding.EncodeToString(append([]byte(keyID+"\x00"), tokenID...)))
}

// GetParametersForImport makes an RSA wrapping key pair and an import token for an EXTERNAL
// key, both valid 24 hours; a new call replaces the previous parameters.
func (s *Service) GetParametersForImport(ctx context.Context, c Caller, keyID, alg, wrapSpec string) (ImportParametersOutput, error) {
	if _, _, ok := wrapHash(alg); !ok {
		if alg == "RSAES_PKCS1_V1_5" {
			return ImportParametersOutput{}, errValidation("The wrapping algorithm RSAES_PKCS1_V1_5 is no longer supported.")
		}
		return ImportParametersOutput{}, errConstraint(alg, "wrappingAlgorithm", "Member must satisfy enum value set: [RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1, RSA_AES_KEY_WRAP_SHA_256]")
	}
	bits := wrappingBits(wrapSpec)
	if bits == 0 {
		return ImportParametersOutput{}, errConstraint(wrapSpec, "wrappingKeySpec", "Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096]")
	}
	e, err := s.manageable(ctx, c, keyID, "GetParametersForImport", opImport)
	if err != nil {
		return ImportParametersOutput{}, err
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return ImportParametersOutput{}, s.internal("wrapping key", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return ImportParametersOutput{}, s.internal("wrapping key", err)
	}
	defer clear(der)
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return ImportParametersOutput{}, s.internal("wrapping key", err)
	}
	sealed, slot, err := s.sealMaterial(ctx, der, e.key.ID+"/import", 0)
	if err != nil {
		return ImportParametersOutput{}, s.internal("seal wrapping key", err)
	}
	tokenID := make([]byte, 32)
	rand.Read(tokenID)
	validTo := s.now().UTC().Add(importParamsTTL)
	_, err = s.update(ctx, e.key.ID, func(k *Key) error {
		if err := s.checkState(k, opImport); err != nil {
			return err
		}
		if k.Import != nil {
			// The replaced wrapping key is destroyed before the record that drops it commits.
			if err := s.shredSlots(ctx, k.Import.Slot); err != nil {
				return err
			}
		}
		k.Import = &ImportParams{TokenID: tokenID, Algorithm: alg, WrappingSpec: wrapSpec, Sealed: sealed, ValidTo: validTo, Slot: slot}
		return nil
	})
	if err != nil {
		_ = s.shredSlots(ctx, slot) // no record names it; a failure leaves it to the start-up sweep
		return ImportParametersOutput{}, s.storeErr("import params", err)
	}
	return ImportParametersOutput{KeyId: s.arn(e.key), ImportToken: importToken(e.key.ID, tokenID), PublicKey: pub, ParametersValidTo: validTo}, nil
}

// ImportKeyMaterialInput holds ImportKeyMaterial's parameters.
type ImportKeyMaterialInput struct {
	KeyId                string
	ImportToken          []byte
	EncryptedKeyMaterial []byte
	ValidTo              time.Time
	ExpirationModel      string
}

// ImportKeyMaterial unwraps and stores key material for an EXTERNAL key and returns the key ARN.
// Re-imports must be the same material as before (IncorrectKeyMaterialException).
func (s *Service) ImportKeyMaterial(ctx context.Context, c Caller, in ImportKeyMaterialInput) (string, error) {
	if err := s.importKeyMaterial(ctx, c, &in); err != nil {
		return "", err
	}
	return in.KeyId, nil
}

func (s *Service) importKeyMaterial(ctx context.Context, c Caller, in *ImportKeyMaterialInput) error {
	model := in.ExpirationModel
	switch {
	case model == "" && in.ValidTo.IsZero():
		model = "KEY_MATERIAL_DOES_NOT_EXPIRE"
	case model == "":
		model = "KEY_MATERIAL_EXPIRES"
	}
	now := s.now().UTC()
	switch model {
	case "KEY_MATERIAL_DOES_NOT_EXPIRE":
		if !in.ValidTo.IsZero() {
			return errValidation("ValidTo must not be set when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE.")
		}
	case "KEY_MATERIAL_EXPIRES":
		if in.ValidTo.IsZero() {
			return errValidation("ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES.")
		}
		if !in.ValidTo.After(now) || in.ValidTo.After(now.Add(365*24*time.Hour)) {
			return errValidation("ValidTo must be in the future and at most 365 days from now.")
		}
	default:
		return errConstraint(model, "expirationModel", "Member must satisfy enum value set: [KEY_MATERIAL_EXPIRES, KEY_MATERIAL_DOES_NOT_EXPIRE]")
	}
	e, err := s.manageable(ctx, c, in.KeyId, "ImportKeyMaterial", opImport)
	if err != nil {
		return err
	}
	imp := e.key.Import
	rest, ok := strings.CutPrefix(string(in.ImportToken), "cit1.")
	tok, derr := base64.RawURLEncoding.DecodeString(rest)
	want := append([]byte(e.key.ID+"\x00"), tokenIDOf(imp)...)
	if !ok || derr != nil || imp == nil || subtle.ConstantTimeCompare(tok, want) != 1 {
		return errf(ErrInvalidImportToken, "Import token is not valid for %s.", s.arn(e.key))
	}
	if !now.Before(imp.ValidTo) {
		return errf(ErrExpiredImportToken, "Import token has expired.")
	}
	material, err := s.unwrapImport(ctx, e.key.ID, imp, in.EncryptedKeyMaterial)
	if err != nil {
		return err
	}
	defer clear(material)
	if len(material) != 32 {
		return errf(ErrIncorrectKeyMaterial, "Key material must be 256 bits for a SYMMETRIC_DEFAULT key.")
	}
	fp := importFingerprint(e.key.ID, material)
	in.KeyId = s.arn(e.key)
	_, err = s.update(ctx, e.key.ID, func(k *Key) error {
		if err := s.checkState(k, opImport); err != nil {
			return err
		}
		if k.ImportFingerprint != nil && subtle.ConstantTimeCompare(k.ImportFingerprint, fp) != 1 {
			return errf(ErrIncorrectKeyMaterial, "The key material is not the material previously imported into %s.", s.arn(k))
		}
		if len(k.Versions) == 0 {
			if err := s.appendSealed(ctx, k, material, ""); err != nil {
				return err
			}
		}
		k.ImportFingerprint = fp
		k.ExpirationModel = model
		k.ValidTo = in.ValidTo.UTC()
		if model == "KEY_MATERIAL_DOES_NOT_EXPIRE" {
			k.ValidTo = time.Time{}
		}
		if k.State == StatePendingImport {
			k.State = StateEnabled
		}
		return nil
	})
	return s.storeErr("import", err)
}

func tokenIDOf(imp *ImportParams) []byte {
	if imp == nil {
		return nil
	}
	return imp.TokenID
}

// unwrapImport decrypts EncryptedKeyMaterial with the sealed wrapping key.
func (s *Service) unwrapImport(ctx context.Context, keyID string, imp *ImportParams, wrapped []byte) ([]byte, error) {
	der, err := s.openMaterial(ctx, imp.Sealed, imp.Slot, keyID+"/import", 0)
	if err != nil {
		return nil, s.internal("open wrapping key", err)
	}
	defer clear(der)
	pk, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, s.internal("parse wrapping key", err)
	}
	priv := pk.(*rsa.PrivateKey)
	h, aesWrap, _ := wrapHash(imp.Algorithm)
	if !aesWrap {
		pt, err := rsa.DecryptOAEP(h(), nil, priv, wrapped, nil)
		if err != nil {
			return nil, errCiphertext
		}
		return pt, nil
	}
	// RSA_AES_KEY_WRAP: RSA-OAEP(ephemeral AES key) || AES-KWP(ephemeral key, material).
	n := priv.Size()
	if len(wrapped) <= n {
		return nil, errCiphertext
	}
	kek, err := rsa.DecryptOAEP(h(), nil, priv, wrapped[:n], nil)
	if err != nil {
		return nil, errCiphertext
	}
	defer clear(kek)
	pt, err := keywrap.Unwrap(kek, wrapped[n:])
	if err != nil {
		return nil, errCiphertext
	}
	return pt, nil
}

// importFingerprint identifies imported material without revealing it.
func importFingerprint(keyID string, material []byte) []byte {
	h := sha256.New()
	h.Write([]byte("coffer kms import fingerprint v1\x00" + keyID + "\x00"))
	h.Write(material)
	return h.Sum(nil)
}

// dropMaterial deletes a key's imported material; it waits in PendingImport for a re-import.
// It runs inside the update that stores the result: the material's shred slots are destroyed
// before that record commits (SPEC.md §8.3).
func (s *Service) dropMaterial(ctx context.Context, k *Key) error {
	for _, v := range k.Versions {
		if err := s.shredSlots(ctx, v.Slot); err != nil {
			return err
		}
	}
	k.Versions = nil
	k.ValidTo = time.Time{}
	if k.State != StatePendingDeletion {
		k.State = StatePendingImport
	}
	return nil
}

// DeleteImportedKeyMaterial deletes an EXTERNAL key's material at once.
func (s *Service) DeleteImportedKeyMaterial(ctx context.Context, c Caller, keyID string) error {
	_, err := s.modify(ctx, c, keyID, "DeleteImportedKeyMaterial", opDeleteImported, func(k *Key) error {
		return s.dropMaterial(ctx, k)
	})
	return s.storeErr("delete imported", err)
}
