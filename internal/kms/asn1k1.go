package kms

import (
	"crypto/x509/pkix"
	"encoding/asn1"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// crypto/x509 does not know secp256k1, so its SubjectPublicKeyInfo and PKCS#8 encodings
// (RFC 5480, RFC 5915, RFC 5208) are built here.

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
)

type spkiASN1 struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

type pkcs8ASN1 struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
}

type ecPrivateKeyASN1 struct {
	Version    int
	PrivateKey []byte
	PublicKey  asn1.BitString `asn1:"optional,explicit,tag:1"`
}

func k1AlgorithmID() (pkix.AlgorithmIdentifier, error) {
	params, err := asn1.Marshal(oidSecp256k1)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, err
	}
	return pkix.AlgorithmIdentifier{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: params}}, nil
}

// marshalK1PublicKey returns the DER SubjectPublicKeyInfo of a secp256k1 public key.
func marshalK1PublicKey(pub *secp256k1.PublicKey) ([]byte, error) {
	alg, err := k1AlgorithmID()
	if err != nil {
		return nil, err
	}
	point := pub.SerializeUncompressed()
	return asn1.Marshal(spkiASN1{Algorithm: alg, PublicKey: asn1.BitString{Bytes: point, BitLength: 8 * len(point)}})
}

// marshalK1PKCS8 returns the PKCS#8 DER of a secp256k1 private key.
func marshalK1PKCS8(k *secp256k1.PrivateKey) ([]byte, error) {
	alg, err := k1AlgorithmID()
	if err != nil {
		return nil, err
	}
	scalar := k.Serialize()
	defer clear(scalar)
	point := k.PubKey().SerializeUncompressed()
	inner, err := asn1.Marshal(ecPrivateKeyASN1{Version: 1, PrivateKey: scalar, PublicKey: asn1.BitString{Bytes: point, BitLength: 8 * len(point)}})
	if err != nil {
		return nil, err
	}
	defer clear(inner)
	return asn1.Marshal(pkcs8ASN1{Version: 0, Algorithm: alg, PrivateKey: inner})
}
