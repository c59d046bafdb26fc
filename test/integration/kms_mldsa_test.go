package integration

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// TestKMSMLDSA signs with ML_DSA_44/65/87 keys through aws-sdk-go-v2 and verifies each
// signature locally (pure ML-DSA, empty context, against GetPublicKey's SubjectPublicKeyInfo)
// and with KMS Verify; a changed message does not verify.
func TestKMSMLDSA(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	k := e.kms()
	tests := []struct {
		spec   kmstypes.KeySpec
		scheme sign.Scheme
	}{
		{kmstypes.KeySpecMlDsa44, mldsa44.Scheme()},
		{kmstypes.KeySpecMlDsa65, mldsa65.Scheme()},
		{kmstypes.KeySpecMlDsa87, mldsa87.Scheme()},
	}
	for _, tt := range tests {
		t.Run(string(tt.spec), func(t *testing.T) {
			key := must[*kms.CreateKeyOutput](t)(k.CreateKey(c, &kms.CreateKeyInput{KeySpec: tt.spec, KeyUsage: kmstypes.KeyUsageTypeSignVerify}))
			id := aws.ToString(key.KeyMetadata.KeyId)
			if algs := key.KeyMetadata.SigningAlgorithms; len(algs) != 1 || algs[0] != kmstypes.SigningAlgorithmSpecMlDsaShake256 {
				t.Fatalf("signing algorithms %v", algs)
			}
			pk := must[*kms.GetPublicKeyOutput](t)(k.GetPublicKey(c, &kms.GetPublicKeyInput{KeyId: aws.String(id)}))
			var spki struct {
				Algorithm pkix.AlgorithmIdentifier
				PublicKey asn1.BitString
			}
			if _, err := asn1.Unmarshal(pk.PublicKey, &spki); err != nil || !spki.Algorithm.Algorithm.Equal(tt.scheme.(interface{ Oid() asn1.ObjectIdentifier }).Oid()) {
				t.Fatalf("SubjectPublicKeyInfo: %v, algorithm %v", err, spki.Algorithm.Algorithm)
			}
			pub, err := tt.scheme.UnmarshalBinaryPublicKey(spki.PublicKey.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("a message signed by a post-quantum KMS key")
			for _, mt := range []kmstypes.MessageType{kmstypes.MessageTypeRaw, ""} {
				out := must[*kms.SignOutput](t)(k.Sign(c, &kms.SignInput{KeyId: aws.String(id), Message: msg, MessageType: mt, SigningAlgorithm: kmstypes.SigningAlgorithmSpecMlDsaShake256}))
				if len(out.Signature) != tt.scheme.SignatureSize() || !tt.scheme.Verify(pub, msg, out.Signature, nil) {
					t.Fatalf("MessageType %q: signature of %d bytes does not verify locally", mt, len(out.Signature))
				}
				v := must[*kms.VerifyOutput](t)(k.Verify(c, &kms.VerifyInput{KeyId: aws.String(id), Message: msg, MessageType: mt, Signature: out.Signature, SigningAlgorithm: kmstypes.SigningAlgorithmSpecMlDsaShake256}))
				if !v.SignatureValid {
					t.Fatal("KMS Verify: not valid")
				}
				_, err := k.Verify(c, &kms.VerifyInput{KeyId: aws.String(id), Message: bytes.ToUpper(msg), Signature: out.Signature, SigningAlgorithm: kmstypes.SigningAlgorithmSpecMlDsaShake256})
				var inv *kmstypes.KMSInvalidSignatureException
				if !asError(err, &inv) {
					t.Fatalf("Verify of another message: %v, want KMSInvalidSignatureException", err)
				}
			}
		})
	}
}

// TestKMSMLDSAErrors: what an ML-DSA key refuses, and the answer Coffer gives to EXTERNAL_MU,
// which it does not support.
func TestKMSMLDSAErrors(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	k := e.kms()
	id := aws.ToString(must[*kms.CreateKeyOutput](t)(k.CreateKey(c, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecMlDsa65, KeyUsage: kmstypes.KeyUsageTypeSignVerify})).KeyMetadata.KeyId)
	sym := aws.ToString(must[*kms.CreateKeyOutput](t)(k.CreateKey(c, &kms.CreateKeyInput{})).KeyMetadata.KeyId)
	mu := bytes.Repeat([]byte{7}, 64)
	sign := func(mt kmstypes.MessageType, alg kmstypes.SigningAlgorithmSpec, msg []byte) error {
		_, err := k.Sign(c, &kms.SignInput{KeyId: aws.String(id), Message: msg, MessageType: mt, SigningAlgorithm: alg})
		return err
	}
	tests := []struct {
		name, want string
		call       func() error
	}{
		{"EXTERNAL_MU is not supported", "UnsupportedOperationException", func() error {
			return sign(kmstypes.MessageTypeExternalMu, kmstypes.SigningAlgorithmSpecMlDsaShake256, mu)
		}},
		{"EXTERNAL_MU of 32 bytes", "ValidationException", func() error {
			return sign(kmstypes.MessageTypeExternalMu, kmstypes.SigningAlgorithmSpecMlDsaShake256, mu[:32])
		}},
		{"DIGEST", "ValidationException", func() error { return sign(kmstypes.MessageTypeDigest, kmstypes.SigningAlgorithmSpecMlDsaShake256, mu) }},
		{"an ECDSA algorithm", "InvalidKeyUsageException", func() error { return sign(kmstypes.MessageTypeRaw, kmstypes.SigningAlgorithmSpecEcdsaSha256, mu) }},
		{"ML_DSA_SHAKE_256 on an ECC key", "InvalidKeyUsageException", func() error {
			ecc := aws.ToString(must[*kms.CreateKeyOutput](t)(k.CreateKey(c, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify})).KeyMetadata.KeyId)
			_, err := k.Sign(c, &kms.SignInput{KeyId: aws.String(ecc), Message: mu, SigningAlgorithm: kmstypes.SigningAlgorithmSpecMlDsaShake256})
			return err
		}},
		{"ENCRYPT_DECRYPT usage", "ValidationException", func() error {
			_, err := k.CreateKey(c, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecMlDsa44, KeyUsage: kmstypes.KeyUsageTypeEncryptDecrypt})
			return err
		}},
		{"no data key pairs", "ValidationException", func() error {
			_, err := k.GenerateDataKeyPair(c, &kms.GenerateDataKeyPairInput{KeyId: aws.String(sym), KeyPairSpec: kmstypes.DataKeyPairSpec("ML_DSA_44")})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
}
