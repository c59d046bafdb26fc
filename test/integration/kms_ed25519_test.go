package integration

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/sha512"
	"crypto/x509"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestKMSEd25519 signs with an ECC_NIST_EDWARDS25519 key through aws-sdk-go-v2 and verifies each
// signature locally with crypto/ed25519 (against the public key GetPublicKey returns) and with
// KMS Verify: ED25519_SHA_512 over a RAW message, ED25519_PH_SHA_512 (Ed25519ph) over a
// SHA-512 DIGEST that KMS prehashes again.
func TestKMSEd25519(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	k := e.kms()
	key := must[*kms.CreateKeyOutput](t)(k.CreateKey(c, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistEdwards25519, KeyUsage: kmstypes.KeyUsageTypeSignVerify}))
	id := aws.ToString(key.KeyMetadata.KeyId)
	wantAlgs := []kmstypes.SigningAlgorithmSpec{kmstypes.SigningAlgorithmSpecEd25519Sha512, kmstypes.SigningAlgorithmSpecEd25519PhSha512}
	if !slices.Equal(key.KeyMetadata.SigningAlgorithms, wantAlgs) {
		t.Fatalf("signing algorithms %v, want %v", key.KeyMetadata.SigningAlgorithms, wantAlgs)
	}
	pk := must[*kms.GetPublicKeyOutput](t)(k.GetPublicKey(c, &kms.GetPublicKeyInput{KeyId: aws.String(id)}))
	parsed, err := x509.ParsePKIXPublicKey(pk.PublicKey)
	pub, ok := parsed.(ed25519.PublicKey)
	if err != nil || !ok || pk.KeySpec != kmstypes.KeySpecEccNistEdwards25519 || !slices.Equal(pk.SigningAlgorithms, wantAlgs) {
		t.Fatalf("GetPublicKey: %T %v, spec %s, algorithms %v", parsed, err, pk.KeySpec, pk.SigningAlgorithms)
	}
	message := []byte("a message signed by an Ed25519 KMS key")
	digest := sha512.Sum512(message)
	tests := []struct {
		name    string
		alg     kmstypes.SigningAlgorithmSpec
		mt      kmstypes.MessageType
		msg     []byte
		verify  func(sig []byte) bool // local verification
		wantErr string                // "" : signs
	}{
		{"pure Ed25519, RAW", kmstypes.SigningAlgorithmSpecEd25519Sha512, kmstypes.MessageTypeRaw, message,
			func(sig []byte) bool { return ed25519.Verify(pub, message, sig) }, ""},
		{"pure Ed25519, no message type", kmstypes.SigningAlgorithmSpecEd25519Sha512, "", message,
			func(sig []byte) bool { return ed25519.Verify(pub, message, sig) }, ""},
		{"Ed25519ph, DIGEST hashed again", kmstypes.SigningAlgorithmSpecEd25519PhSha512, kmstypes.MessageTypeDigest, digest[:],
			func(sig []byte) bool {
				twice := sha512.Sum512(digest[:])
				return ed25519.VerifyWithOptions(pub, twice[:], sig, &ed25519.Options{Hash: crypto.SHA512}) == nil
			}, ""},
		{"pure Ed25519, DIGEST", kmstypes.SigningAlgorithmSpecEd25519Sha512, kmstypes.MessageTypeDigest, digest[:], nil, "ValidationException"},
		{"Ed25519ph, RAW", kmstypes.SigningAlgorithmSpecEd25519PhSha512, kmstypes.MessageTypeRaw, message, nil, "ValidationException"},
		{"Ed25519ph, short DIGEST", kmstypes.SigningAlgorithmSpecEd25519PhSha512, kmstypes.MessageTypeDigest, digest[:32], nil, "ValidationException"},
		{"ECDSA algorithm", kmstypes.SigningAlgorithmSpecEcdsaSha256, kmstypes.MessageTypeRaw, message, nil, "InvalidKeyUsageException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := k.Sign(c, &kms.SignInput{KeyId: aws.String(id), Message: tt.msg, MessageType: tt.mt, SigningAlgorithm: tt.alg})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Sign: %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Signature) != ed25519.SignatureSize || !tt.verify(out.Signature) {
				t.Fatalf("signature %x does not verify locally", out.Signature)
			}
			v := must[*kms.VerifyOutput](t)(k.Verify(c, &kms.VerifyInput{KeyId: aws.String(id), Message: tt.msg, MessageType: tt.mt, Signature: out.Signature, SigningAlgorithm: tt.alg}))
			if !v.SignatureValid {
				t.Fatal("KMS Verify: not valid")
			}
			other := bytes.Clone(tt.msg)
			other[0] ^= 1
			_, err = k.Verify(c, &kms.VerifyInput{KeyId: aws.String(id), Message: other, MessageType: tt.mt, Signature: out.Signature, SigningAlgorithm: tt.alg})
			var inv *kmstypes.KMSInvalidSignatureException
			if !asError(err, &inv) {
				t.Fatalf("Verify of another message: %v, want KMSInvalidSignatureException", err)
			}
		})
	}
}

// TestKMSEd25519KeysAndPairs: an Ed25519 key is SIGN_VERIFY only, and GenerateDataKeyPair makes
// Ed25519 pairs (PKCS#8 private key, SubjectPublicKeyInfo public key) that match.
func TestKMSEd25519KeysAndPairs(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	k := e.kms()
	for _, usage := range []kmstypes.KeyUsageType{kmstypes.KeyUsageTypeEncryptDecrypt, kmstypes.KeyUsageTypeKeyAgreement} {
		if _, err := k.CreateKey(c, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistEdwards25519, KeyUsage: usage}); err == nil || !strings.Contains(err.Error(), "ValidationException") {
			t.Errorf("CreateKey with %s: %v, want ValidationException", usage, err)
		}
	}
	sym := aws.ToString(must[*kms.CreateKeyOutput](t)(k.CreateKey(c, &kms.CreateKeyInput{})).KeyMetadata.KeyId)
	pair := must[*kms.GenerateDataKeyPairOutput](t)(k.GenerateDataKeyPair(c, &kms.GenerateDataKeyPairInput{KeyId: aws.String(sym), KeyPairSpec: kmstypes.DataKeyPairSpecEccNistEdwards25519}))
	priv, err := x509.ParsePKCS8PrivateKey(pair.PrivateKeyPlaintext)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(pair.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	edPriv, ok := priv.(ed25519.PrivateKey)
	if !ok || !edPriv.Public().(ed25519.PublicKey).Equal(pub) || pair.KeyPairSpec != kmstypes.DataKeyPairSpecEccNistEdwards25519 {
		t.Fatalf("pair: private %T, public %T, spec %s", priv, pub, pair.KeyPairSpec)
	}
	dec := must[*kms.DecryptOutput](t)(k.Decrypt(c, &kms.DecryptInput{CiphertextBlob: pair.PrivateKeyCiphertextBlob}))
	if !bytes.Equal(dec.Plaintext, pair.PrivateKeyPlaintext) {
		t.Fatal("the encrypted private key does not decrypt to the plaintext one")
	}
}
