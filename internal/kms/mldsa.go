package kms

import (
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"

	"github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// mldsaSeedSize is the size of the ML-DSA key generation seed ξ (FIPS 204 Algorithm 1), the
// form in which ML-DSA material is kept (SPEC.md §3): the whole key is derived from it.
const mldsaSeedSize = 32

// mldsaKey is the parsed material of an ML_DSA_44/65/87 key.
type mldsaKey struct {
	priv sign.PrivateKey
	pub  sign.PublicKey
}

// newMLDSASeed returns a fresh key generation seed.
func newMLDSASeed() []byte {
	seed := make([]byte, mldsaSeedSize)
	rand.Read(seed)
	return seed
}

// decodeMLDSA derives the key of scheme from its stored seed (ML-DSA.KeyGen_internal).
func decodeMLDSA(scheme sign.Scheme, seed []byte) (*mldsaKey, error) {
	if len(seed) != mldsaSeedSize || scheme.SeedSize() != mldsaSeedSize {
		return nil, errors.New("kms: ML-DSA material length")
	}
	pub, priv := scheme.DeriveKey(seed)
	return &mldsaKey{priv: priv, pub: pub}, nil
}

// sign makes a hedged ML-DSA signature (FIPS 204 Algorithm 2, fresh randomness) of msg with
// the empty context string, as KMS signs MessageType RAW.
func (k *mldsaKey) sign(msg []byte) ([]byte, error) {
	switch p := k.priv.(type) {
	case *mldsa44.PrivateKey:
		sig := make([]byte, mldsa44.SignatureSize)
		return sig, mldsa44.SignTo(p, msg, nil, true, sig)
	case *mldsa65.PrivateKey:
		sig := make([]byte, mldsa65.SignatureSize)
		return sig, mldsa65.SignTo(p, msg, nil, true, sig)
	case *mldsa87.PrivateKey:
		sig := make([]byte, mldsa87.SignatureSize)
		return sig, mldsa87.SignTo(p, msg, nil, true, sig)
	}
	return nil, errors.New("kms: not an ML-DSA key")
}

// verify checks an ML-DSA signature of msg with the empty context string.
func (k *mldsaKey) verify(msg, sig []byte) bool {
	return k.pub.Scheme().Verify(k.pub, msg, sig, nil)
}

// publicDER returns the SubjectPublicKeyInfo of the key: the algorithm identifier id-ml-dsa-*
// without parameters and the raw public key (RFC 9881).
func (k *mldsaKey) publicDER() ([]byte, error) {
	raw, err := k.pub.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}{pkix.AlgorithmIdentifier{Algorithm: k.pub.Scheme().(interface{ Oid() asn1.ObjectIdentifier }).Oid()},
		asn1.BitString{Bytes: raw, BitLength: 8 * len(raw)}})
}

// mldsaInput checks the message of a Sign or Verify request on an ML-DSA key: MessageType RAW
// (or none) signs the message itself. EXTERNAL_MU (a 64-byte μ, FIPS 204 §6.2) is valid in AWS
// but not supported here: the ML-DSA module Coffer uses computes μ itself and offers no
// signing from an external μ. DIGEST is not an ML-DSA message type.
func mldsaInput(in SignInput) ([]byte, error) {
	switch in.MessageType {
	case "", "RAW":
		return in.Message, nil
	case "EXTERNAL_MU":
		if len(in.Message) != 64 {
			return nil, errValidation("The EXTERNAL_MU message must be 64 bytes.")
		}
		return nil, errf(ErrUnsupported, "MessageType EXTERNAL_MU is not supported by Coffer.")
	case "DIGEST":
		return nil, errValidation("The %s signing algorithm does not support MessageType DIGEST.", in.SigningAlgorithm)
	}
	return nil, errMessageType(in.MessageType)
}
