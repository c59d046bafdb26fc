package kms

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"hash"

	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

func oaepHash(alg string) (func() hash.Hash, bool) {
	switch alg {
	case "RSAES_OAEP_SHA_1":
		return sha1.New, true
	case "RSAES_OAEP_SHA_256":
		return sha256.New, true
	}
	return nil, false
}

func (s *Service) rsaKey(ctx context.Context, e *entry) (*rsa.PrivateKey, error) {
	v := e.key.current()
	if v == nil {
		return nil, s.stateErr(e.key, string(StatePendingImport))
	}
	m, err := s.material(ctx, e, v)
	if err != nil {
		return nil, err
	}
	k, ok := m.priv.(*rsa.PrivateKey)
	if !ok {
		return nil, s.internal("rsa material", nil)
	}
	return k, nil
}

func (s *Service) encryptRSA(ctx context.Context, e *entry, in EncryptInput) (EncryptOutput, error) {
	h, ok := oaepHash(in.EncryptionAlgorithm)
	if !ok {
		alg := in.EncryptionAlgorithm
		if alg == "" {
			alg = SpecSymmetric
		}
		return EncryptOutput{}, s.badAlgorithm(e.key, alg)
	}
	if len(in.EncryptionContext) > 0 {
		return EncryptOutput{}, errValidation("EncryptionContext is not supported for asymmetric KMS keys.")
	}
	k, err := s.rsaKey(ctx, e)
	if err != nil {
		return EncryptOutput{}, err
	}
	if max := k.Size() - 2*h().Size() - 2; len(in.Plaintext) > max {
		return EncryptOutput{}, errValidation("Algorithm %s and key spec %s cannot encrypt data larger than %d bytes.", in.EncryptionAlgorithm, e.key.Spec, max)
	}
	if in.DryRun {
		return EncryptOutput{}, errDryRun
	}
	ct, err := rsa.EncryptOAEP(h(), rand.Reader, &k.PublicKey, in.Plaintext, nil)
	if err != nil {
		return EncryptOutput{}, s.internal("rsa encrypt", err)
	}
	return EncryptOutput{CiphertextBlob: ct, KeyId: s.arn(e.key), EncryptionAlgorithm: in.EncryptionAlgorithm}, nil
}

func (s *Service) decryptRSA(ctx context.Context, e *entry, in DecryptInput) (DecryptOutput, error) {
	h, ok := oaepHash(in.EncryptionAlgorithm)
	if !ok {
		alg := in.EncryptionAlgorithm
		if alg == "" {
			alg = SpecSymmetric
		}
		return DecryptOutput{}, s.badAlgorithm(e.key, alg)
	}
	k, err := s.rsaKey(ctx, e)
	if err != nil {
		return DecryptOutput{}, err
	}
	if in.DryRun {
		return DecryptOutput{}, errDryRun
	}
	pt, err := rsa.DecryptOAEP(h(), nil, k, in.CiphertextBlob, nil)
	if err != nil {
		return DecryptOutput{}, errCiphertext
	}
	return DecryptOutput{KeyId: s.arn(e.key), Plaintext: pt, EncryptionAlgorithm: in.EncryptionAlgorithm}, nil
}

// SignInput holds Sign's and Verify's parameters (Signature only for Verify).
type SignInput struct {
	KeyId            string
	Message          []byte
	MessageType      string // RAW (default) or DIGEST
	SigningAlgorithm string
	Signature        []byte
	GrantTokens      []string
	DryRun           bool
}

// SignOutput is Sign's result.
type SignOutput struct {
	KeyId            string
	Signature        []byte
	SigningAlgorithm string
}

// signDigest checks the request and returns the key entry, its material and the digest to sign.
func (s *Service) signDigest(ctx context.Context, c Caller, in SignInput, opName string) (*entry, *material, []byte, crypto.Hash, bool, error) {
	if len(in.Message) == 0 || len(in.Message) > 4096 {
		return nil, nil, nil, 0, false, errConstraint("", "message", "Member must have length between 1 and 4096")
	}
	if in.SigningAlgorithm == "" { // a required member: AWS answers before it looks at the key
		return nil, nil, nil, 0, false, errValidation("1 validation error detected: Value null at 'signingAlgorithm' failed to satisfy constraint: Member must not be null")
	}
	a := askFor(opName).withTokens(in.GrantTokens).with(condSigningAlgorithm, in.SigningAlgorithm)
	e, err := s.cryptoKey(ctx, c, in.KeyId, opSignMac, UsageSignVerify, a)
	if err != nil {
		return nil, nil, nil, 0, false, err
	}
	h, pss, ok := signAlg(in.SigningAlgorithm)
	if !ok || !contains(specs[e.key.Spec].sign, in.SigningAlgorithm) {
		return nil, nil, nil, 0, false, s.badAlgorithm(e.key, in.SigningAlgorithm)
	}
	var digest []byte
	switch {
	case specs[e.key.Spec].edwards:
		if digest, err = edwardsInput(in); err != nil {
			return nil, nil, nil, 0, false, err
		}
	case specs[e.key.Spec].mldsa != nil:
		if digest, err = mldsaInput(in); err != nil {
			return nil, nil, nil, 0, false, err
		}
	case in.MessageType == "" || in.MessageType == "RAW":
		hh := h.New()
		hh.Write(in.Message)
		digest = hh.Sum(nil)
	case in.MessageType == "DIGEST":
		if len(in.Message) != h.Size() {
			return nil, nil, nil, 0, false, errValidation("Digest is invalid length for algorithm %s.", in.SigningAlgorithm)
		}
		digest = in.Message
	default:
		return nil, nil, nil, 0, false, errMessageType(in.MessageType)
	}
	if in.DryRun {
		return nil, nil, nil, 0, false, errDryRun
	}
	m, err := s.material(ctx, e, e.key.current())
	if err != nil {
		return nil, nil, nil, 0, false, err
	}
	return e, m, digest, h, pss, nil
}

// Sign signs a message or digest with an asymmetric SIGN_VERIFY key.
func (s *Service) Sign(ctx context.Context, c Caller, in SignInput) (SignOutput, error) {
	e, m, digest, h, pss, err := s.signDigest(ctx, c, in, "Sign")
	if err != nil {
		return SignOutput{}, err
	}
	var sig []byte
	switch {
	case m.k1 != nil:
		sig = k1ecdsa.Sign(m.k1, digest).Serialize()
	case m.ml != nil:
		sig, err = m.ml.sign(digest)
	case specs[e.key.Spec].edwards:
		sig, err = m.priv.Sign(rand.Reader, digest, edwardsOptions(in.SigningAlgorithm))
	case pss:
		sig, err = m.priv.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
	default:
		sig, err = m.priv.Sign(rand.Reader, digest, h)
	}
	if err != nil {
		return SignOutput{}, s.internal("sign", err)
	}
	return SignOutput{KeyId: s.arn(e.key), Signature: sig, SigningAlgorithm: in.SigningAlgorithm}, nil
}

// Verify checks a signature made with an asymmetric SIGN_VERIFY key. A signature that does not
// verify is KMSInvalidSignatureException.
func (s *Service) Verify(ctx context.Context, c Caller, in SignInput) (SignOutput, error) {
	if len(in.Signature) == 0 || len(in.Signature) > 6144 {
		return SignOutput{}, errConstraint("", "signature", "Member must have length between 1 and 6144")
	}
	e, m, digest, h, pss, err := s.signDigest(ctx, c, in, "Verify")
	if err != nil {
		return SignOutput{}, err
	}
	ok := false
	switch {
	case m.k1 != nil:
		if sig, err := k1ecdsa.ParseDERSignature(in.Signature); err == nil {
			ok = sig.Verify(digest, m.k1.PubKey())
		}
	case m.ml != nil:
		ok = m.ml.verify(digest, in.Signature)
	default:
		switch pub := m.priv.Public().(type) {
		case ed25519.PublicKey:
			ok = ed25519.VerifyWithOptions(pub, digest, in.Signature, edwardsOptions(in.SigningAlgorithm)) == nil
		case *ecdsa.PublicKey:
			ok = ecdsa.VerifyASN1(pub, digest, in.Signature)
		case *rsa.PublicKey:
			if pss {
				ok = rsa.VerifyPSS(pub, h, digest, in.Signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
			} else {
				ok = rsa.VerifyPKCS1v15(pub, h, digest, in.Signature) == nil
			}
		}
	}
	if !ok {
		return SignOutput{}, &Error{Kind: ErrInvalidSignature}
	}
	return SignOutput{KeyId: s.arn(e.key), SigningAlgorithm: in.SigningAlgorithm}, nil
}

// PublicKeyOutput is GetPublicKey's result.
type PublicKeyOutput struct {
	KeyId                  string
	PublicKey              []byte
	KeySpec                string
	KeyUsage               string
	EncryptionAlgorithms   []string
	SigningAlgorithms      []string
	KeyAgreementAlgorithms []string
}

// GetPublicKey returns the DER SubjectPublicKeyInfo of an asymmetric key.
func (s *Service) GetPublicKey(ctx context.Context, c Caller, keyID string) (PublicKeyOutput, error) {
	e, err := s.resolve(ctx, c, keyID, optsAny, askFor("GetPublicKey"))
	if err != nil {
		return PublicKeyOutput{}, err
	}
	if err := s.checkState(e.key, opSignMac); err != nil {
		return PublicKeyOutput{}, err
	}
	if e.key.Spec == SpecSymmetric || specs[e.key.Spec].hmacLen > 0 {
		return PublicKeyOutput{}, errf(ErrUnsupported, "%s key spec is %s which is not valid for GetPublicKey.", s.arn(e.key), e.key.Spec)
	}
	m, err := s.material(ctx, e, e.key.current())
	if err != nil {
		return PublicKeyOutput{}, err
	}
	der, err := publicDER(m)
	if err != nil {
		return PublicKeyOutput{}, s.internal("public key", err)
	}
	enc, sign, _, agree := algorithms(e.key.Spec, e.key.Usage)
	return PublicKeyOutput{KeyId: s.arn(e.key), PublicKey: der, KeySpec: e.key.Spec, KeyUsage: e.key.Usage,
		EncryptionAlgorithms: enc, SigningAlgorithms: sign, KeyAgreementAlgorithms: agree}, nil
}

func publicDER(m *material) ([]byte, error) {
	if m.k1 != nil {
		return marshalK1PublicKey(m.k1.PubKey())
	}
	if m.ml != nil {
		return m.ml.publicDER()
	}
	return x509.MarshalPKIXPublicKey(m.priv.Public())
}

// DataKeyPairOutput is GenerateDataKeyPair's result (no plaintext for WithoutPlaintext).
type DataKeyPairOutput struct {
	KeyId                    string
	KeyPairSpec              string
	PrivateKeyCiphertextBlob []byte
	PrivateKeyPlaintext      []byte
	PublicKey                []byte
	KeyMaterialId            string
}

// GenerateDataKeyPair makes an asymmetric key pair whose PKCS#8 private key is encrypted under
// a symmetric key.
func (s *Service) GenerateDataKeyPair(ctx context.Context, c Caller, keyID, pairSpec string, ec map[string]string, plain, dryRun bool) (DataKeyPairOutput, error) {
	sp, ok := specs[pairSpec]
	if !ok || (sp.rsaBits == 0 && sp.curve == "" && !sp.edwards) {
		return DataKeyPairOutput{}, errConstraint(pairSpec, "keyPairSpec", "Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, SM2, ECC_NIST_EDWARDS25519]")
	}
	opName := "GenerateDataKeyPair"
	if !plain {
		opName = "GenerateDataKeyPairWithoutPlaintext"
	}
	a := askFor(opName).withEC(ec).with(condDataKeyPairSpec, pairSpec).with(condEncryptionAlgorithm, SpecSymmetric)
	e, err := s.cryptoKey(ctx, c, keyID, opCrypto, UsageEncryptDecrypt, a)
	if err != nil {
		return DataKeyPairOutput{}, err
	}
	if e.key.Spec != SpecSymmetric {
		return DataKeyPairOutput{}, errf(ErrInvalidKeyUsage, "%s key spec is %s which is not valid for GenerateDataKeyPair.", s.arn(e.key), e.key.Spec)
	}
	if dryRun {
		return DataKeyPairOutput{}, errDryRun
	}
	raw, err := generateMaterial(pairSpec)
	if err != nil {
		return DataKeyPairOutput{}, s.internal("generate pair", err)
	}
	defer clear(raw)
	m, err := decodeMaterial(pairSpec, raw)
	if err != nil {
		return DataKeyPairOutput{}, s.internal("decode pair", err)
	}
	pub, err := publicDER(m)
	if err != nil {
		return DataKeyPairOutput{}, s.internal("public key", err)
	}
	priv := raw
	if m.k1 != nil {
		if priv, err = marshalK1PKCS8(m.k1); err != nil {
			return DataKeyPairOutput{}, s.internal("pkcs8", err)
		}
		defer clear(priv)
	}
	blob, err := s.seal(ctx, e, ec, priv)
	if err != nil {
		return DataKeyPairOutput{}, err
	}
	out := DataKeyPairOutput{KeyId: s.arn(e.key), KeyPairSpec: pairSpec, PrivateKeyCiphertextBlob: blob, PublicKey: pub, KeyMaterialId: e.key.current().MaterialID}
	if plain {
		out.PrivateKeyPlaintext = append([]byte(nil), priv...)
	}
	return out, nil
}

// DeriveSharedSecret computes the ECDH shared secret of a KEY_AGREEMENT key and a peer's
// DER SubjectPublicKeyInfo.
func (s *Service) DeriveSharedSecret(ctx context.Context, c Caller, keyID, alg string, peer []byte, dryRun bool) (keyARN string, secret []byte, err error) {
	a := askFor("DeriveSharedSecret").with(condKeyAgreementAlg, alg)
	e, err := s.cryptoKey(ctx, c, keyID, opSignMac, UsageKeyAgreement, a)
	if err != nil {
		return "", nil, err
	}
	if alg != "ECDH" {
		return "", nil, s.badAlgorithm(e.key, alg)
	}
	pk, err := x509.ParsePKIXPublicKey(peer)
	if err != nil {
		return "", nil, errValidation("The public key is not a valid DER-encoded X.509 public key.")
	}
	peerEC, ok := pk.(*ecdsa.PublicKey)
	if !ok || peerEC.Curve.Params().Name != specs[e.key.Spec].curve {
		return "", nil, errValidation("The public key does not match the key spec %s.", e.key.Spec)
	}
	if dryRun {
		return "", nil, errDryRun
	}
	m, err := s.material(ctx, e, e.key.current())
	if err != nil {
		return "", nil, err
	}
	priv, ok := m.priv.(*ecdsa.PrivateKey)
	if !ok {
		return "", nil, s.internal("ecdh material", nil)
	}
	ours, err := priv.ECDH()
	if err != nil {
		return "", nil, s.internal("ecdh", err)
	}
	theirs, err := peerEC.ECDH()
	if err != nil {
		return "", nil, errValidation("The public key is not valid.")
	}
	secret, err = ours.ECDH(theirs)
	if err != nil {
		return "", nil, errValidation("The public key is not valid.")
	}
	return s.arn(e.key), secret, nil
}
