package kmsapi

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

func TestSymmetricEncryptDecrypt(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, nil)
	other := e.createKey(t, nil)
	ec := map[string]string{"ab": "c", "k": "v"}
	enc, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("secret"), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	if enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault || bytes.Contains(enc.CiphertextBlob, []byte("secret")) {
		t.Fatal("unexpected Encrypt output")
	}
	flipped := bytes.Clone(enc.CiphertextBlob)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name  string
		in    awskms.DecryptInput
		code  string
		plain string
	}{
		{"context in another order", awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"k": "v", "ab": "c"}}, "", "secret"},
		{"with key id", awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec, KeyId: &id}, "", "secret"},
		{"missing context", awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}, "InvalidCiphertextException", ""},
		{"shifted context boundary", awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"a": "bc", "k": "v"}}, "InvalidCiphertextException", ""},
		{"extra pair", awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"ab": "c", "k": "v", "x": ""}}, "InvalidCiphertextException", ""},
		{"case differs", awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"AB": "c", "k": "v"}}, "InvalidCiphertextException", ""},
		{"other key id", awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec, KeyId: &other}, "IncorrectKeyException", ""},
		{"bit flip", awskms.DecryptInput{CiphertextBlob: flipped, EncryptionContext: ec}, "InvalidCiphertextException", ""},
		{"truncated", awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob[:40], EncryptionContext: ec}, "InvalidCiphertextException", ""},
		{"garbage", awskms.DecryptInput{CiphertextBlob: []byte("not a ciphertext at all, but long enough to parse maybe....")}, "InvalidCiphertextException", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.client.Decrypt(ctx(), &tc.in)
			wantCode(t, err, tc.code)
			if err == nil && (string(out.Plaintext) != tc.plain || *out.KeyId != "arn:aws:kms:us-east-1:111122223333:key/"+id) {
				t.Fatalf("Decrypt = %q under %s", out.Plaintext, *out.KeyId)
			}
		})
	}
	t.Run("plaintext limits", func(t *testing.T) {
		_, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: make([]byte, 4096)})
		wantCode(t, err, "")
		_, err = e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: make([]byte, 4097)})
		wantCode(t, err, "ValidationException")
	})
	t.Run("reencrypt", func(t *testing.T) {
		out, err := e.client.ReEncrypt(ctx(), &awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ec,
			DestinationKeyId: &other, DestinationEncryptionContext: map[string]string{"new": "ctx"}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(*out.SourceKeyId, id) || !strings.HasSuffix(*out.KeyId, other) {
			t.Fatalf("ReEncrypt keys %s -> %s", *out.SourceKeyId, *out.KeyId)
		}
		dec, err := e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: map[string]string{"new": "ctx"}})
		if err != nil || string(dec.Plaintext) != "secret" {
			t.Fatalf("decrypt re-encrypted: %v", err)
		}
		_, err = e.client.ReEncrypt(ctx(), &awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: &other})
		wantCode(t, err, "InvalidCiphertextException")
		_, err = e.client.ReEncrypt(ctx(), &awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ec, SourceKeyId: &other, DestinationKeyId: &other})
		wantCode(t, err, "IncorrectKeyException")
	})
	t.Run("dry run", func(t *testing.T) {
		_, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("x"), DryRun: aws.Bool(true)})
		wantCode(t, err, "DryRunOperationException")
	})
}

func TestGenerateDataKey(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, nil)
	tests := []struct {
		name string
		spec types.DataKeySpec
		n    *int32
		size int
		code string
	}{
		{"AES_256", types.DataKeySpecAes256, nil, 32, ""},
		{"AES_128", types.DataKeySpecAes128, nil, 16, ""},
		{"1 byte", "", aws.Int32(1), 1, ""},
		{"1024 bytes", "", aws.Int32(1024), 1024, ""},
		{"1025 bytes", "", aws.Int32(1025), 0, "ValidationException"},
		{"0 bytes", "", aws.Int32(0), 0, "ValidationException"},
		{"neither", "", nil, 0, "ValidationException"},
		{"both", types.DataKeySpecAes256, aws.Int32(32), 0, "ValidationException"},
	}
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/key"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.client.GenerateDataKey(ctx(), &awskms.GenerateDataKeyInput{KeyId: &id, KeySpec: tc.spec, NumberOfBytes: tc.n, EncryptionContext: ec})
			wantCode(t, err, tc.code)
			if err != nil {
				return
			}
			if len(out.Plaintext) != tc.size {
				t.Fatalf("data key of %d bytes, want %d", len(out.Plaintext), tc.size)
			}
			dec, err := e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ec})
			if err != nil || !bytes.Equal(dec.Plaintext, out.Plaintext) {
				t.Fatalf("decrypting the data key: %v", err)
			}
			wp, err := e.client.GenerateDataKeyWithoutPlaintext(ctx(), &awskms.GenerateDataKeyWithoutPlaintextInput{KeyId: &id, KeySpec: tc.spec, NumberOfBytes: tc.n})
			if err != nil {
				t.Fatal(err)
			}
			dec, err = e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: wp.CiphertextBlob})
			if err != nil || len(dec.Plaintext) != tc.size {
				t.Fatalf("decrypting the data key without plaintext: %v", err)
			}
		})
	}
	t.Run("asymmetric key", func(t *testing.T) {
		sign := e.createKey(t, &awskms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
		_, err := e.client.GenerateDataKey(ctx(), &awskms.GenerateDataKeyInput{KeyId: &sign, KeySpec: types.DataKeySpecAes256})
		wantCode(t, err, "InvalidKeyUsageException")
	})
	t.Run("random", func(t *testing.T) {
		out, err := e.client.GenerateRandom(ctx(), &awskms.GenerateRandomInput{NumberOfBytes: aws.Int32(64)})
		if err != nil || len(out.Plaintext) != 64 {
			t.Fatalf("GenerateRandom: %v", err)
		}
		_, err = e.client.GenerateRandom(ctx(), &awskms.GenerateRandomInput{})
		wantCode(t, err, "ValidationException")
		_, err = e.client.GenerateRandom(ctx(), &awskms.GenerateRandomInput{NumberOfBytes: aws.Int32(1025)})
		wantCode(t, err, "ValidationException")
	})
}

func TestRSAEncryption(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, &awskms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	pub, err := e.client.GetPublicKey(ctx(), &awskms.GetPublicKeyInput{KeyId: &id})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.ParsePKIXPublicKey(pub.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		alg types.EncryptionAlgorithmSpec
		max int
	}{{types.EncryptionAlgorithmSpecRsaesOaepSha1, 214}, {types.EncryptionAlgorithmSpecRsaesOaepSha256, 190}} {
		t.Run(string(tc.alg), func(t *testing.T) {
			msg := bytes.Repeat([]byte("m"), tc.max)
			enc, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: msg, EncryptionAlgorithm: tc.alg})
			if err != nil {
				t.Fatal(err)
			}
			dec, err := e.client.Decrypt(ctx(), &awskms.DecryptInput{KeyId: &id, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: tc.alg})
			if err != nil || !bytes.Equal(dec.Plaintext, msg) {
				t.Fatalf("decrypt: %v", err)
			}
			// a ciphertext made locally with the public key decrypts too
			h := sha256.New()
			if tc.alg == types.EncryptionAlgorithmSpecRsaesOaepSha1 {
				h = newSHA1()
			}
			local, err := rsa.EncryptOAEP(h, rand.Reader, pk.(*rsa.PublicKey), []byte("local"), nil)
			if err != nil {
				t.Fatal(err)
			}
			dec, err = e.client.Decrypt(ctx(), &awskms.DecryptInput{KeyId: &id, CiphertextBlob: local, EncryptionAlgorithm: tc.alg})
			if err != nil || string(dec.Plaintext) != "local" {
				t.Fatalf("decrypt local: %v", err)
			}
			_, err = e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: append(msg, 'x'), EncryptionAlgorithm: tc.alg})
			wantCode(t, err, "ValidationException")
		})
	}
	_, err = e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("x")})
	wantCode(t, err, "InvalidKeyUsageException")
	_, err = e.client.Sign(ctx(), &awskms.SignInput{KeyId: &id, Message: []byte("x"), SigningAlgorithm: types.SigningAlgorithmSpecRsassaPssSha256})
	wantCode(t, err, "InvalidKeyUsageException")
}

func TestSignVerify(t *testing.T) {
	e := newEnv(t, "")
	tests := []struct {
		spec types.KeySpec
		algs []types.SigningAlgorithmSpec
	}{
		{types.KeySpecRsa2048, []types.SigningAlgorithmSpec{"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384"}},
		{types.KeySpecEccNistP256, []types.SigningAlgorithmSpec{"ECDSA_SHA_256"}},
		{types.KeySpecEccNistP384, []types.SigningAlgorithmSpec{"ECDSA_SHA_384"}},
		{types.KeySpecEccNistP521, []types.SigningAlgorithmSpec{"ECDSA_SHA_512"}},
		{types.KeySpecEccSecgP256k1, []types.SigningAlgorithmSpec{"ECDSA_SHA_256"}},
	}
	msg := []byte("message to sign")
	for _, tc := range tests {
		id := e.createKey(t, &awskms.CreateKeyInput{KeySpec: tc.spec, KeyUsage: types.KeyUsageTypeSignVerify})
		pub, err := e.client.GetPublicKey(ctx(), &awskms.GetPublicKeyInput{KeyId: &id})
		if err != nil {
			t.Fatal(err)
		}
		for _, alg := range tc.algs {
			for _, mt := range []types.MessageType{types.MessageTypeRaw, types.MessageTypeDigest} {
				t.Run(string(tc.spec)+"/"+string(alg)+"/"+string(mt), func(t *testing.T) {
					hash := hashFor(alg)
					digest := hash(msg)
					in := msg
					if mt == types.MessageTypeDigest {
						in = digest
					}
					s, err := e.client.Sign(ctx(), &awskms.SignInput{KeyId: &id, Message: in, MessageType: mt, SigningAlgorithm: alg})
					if err != nil {
						t.Fatal(err)
					}
					if !verifyLocally(t, tc.spec, pub.PublicKey, alg, digest, s.Signature) {
						t.Fatal("signature does not verify with the public key")
					}
					v, err := e.client.Verify(ctx(), &awskms.VerifyInput{KeyId: &id, Message: in, MessageType: mt, Signature: s.Signature, SigningAlgorithm: alg})
					if err != nil || !v.SignatureValid {
						t.Fatalf("Verify: %v", err)
					}
					bad := bytes.Clone(in)
					bad[0] ^= 1
					_, err = e.client.Verify(ctx(), &awskms.VerifyInput{KeyId: &id, Message: bad, MessageType: mt, Signature: s.Signature, SigningAlgorithm: alg})
					wantCode(t, err, "KMSInvalidSignatureException")
				})
			}
		}
		t.Run(string(tc.spec)+"/errors", func(t *testing.T) {
			_, err := e.client.Sign(ctx(), &awskms.SignInput{KeyId: &id, Message: []byte("short"), MessageType: types.MessageTypeDigest, SigningAlgorithm: tc.algs[0]})
			wantCode(t, err, "ValidationException")
			_, err = e.client.Sign(ctx(), &awskms.SignInput{KeyId: &id, Message: msg, SigningAlgorithm: "ECDSA_SHA_999"})
			wantCode(t, err, "InvalidKeyUsageException")
			_, err = e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: msg})
			wantCode(t, err, "InvalidKeyUsageException")
		})
	}
}

func hashFor(alg types.SigningAlgorithmSpec) func([]byte) []byte {
	switch {
	case strings.HasSuffix(string(alg), "384"):
		return func(b []byte) []byte { s := sha512.Sum384(b); return s[:] }
	case strings.HasSuffix(string(alg), "512"):
		return func(b []byte) []byte { s := sha512.Sum512(b); return s[:] }
	}
	return func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
}

func verifyLocally(t *testing.T, spec types.KeySpec, der []byte, alg types.SigningAlgorithmSpec, digest, sig []byte) bool {
	t.Helper()
	if spec == types.KeySpecEccSecgP256k1 {
		pk := parseK1(t, der)
		s, err := k1ecdsa.ParseDERSignature(sig)
		return err == nil && s.Verify(digest, pk)
	}
	pk, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	switch k := pk.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, digest, sig)
	case *rsa.PublicKey:
		h := cryptoHash(alg)
		if strings.Contains(string(alg), "PSS") {
			return rsa.VerifyPSS(k, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(k, h, digest, sig) == nil
	}
	return false
}

// parseK1 reads a secp256k1 SubjectPublicKeyInfo: the last 65 bytes are the uncompressed point.
func parseK1(t *testing.T, der []byte) *secp256k1.PublicKey {
	t.Helper()
	if len(der) < 65 {
		t.Fatal("short secp256k1 public key")
	}
	pk, err := secp256k1.ParsePubKey(der[len(der)-65:])
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

func TestDataKeyPair(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, nil)
	for _, spec := range []types.DataKeyPairSpec{types.DataKeyPairSpecEccNistP256, types.DataKeyPairSpecEccSecgP256k1, types.DataKeyPairSpecRsa2048} {
		t.Run(string(spec), func(t *testing.T) {
			ec := map[string]string{"pair": string(spec)}
			out, err := e.client.GenerateDataKeyPair(ctx(), &awskms.GenerateDataKeyPairInput{KeyId: &id, KeyPairSpec: spec, EncryptionContext: ec})
			if err != nil {
				t.Fatal(err)
			}
			dec, err := e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: out.PrivateKeyCiphertextBlob, EncryptionContext: ec})
			if err != nil || !bytes.Equal(dec.Plaintext, out.PrivateKeyPlaintext) {
				t.Fatalf("decrypting the private key: %v", err)
			}
			if spec != types.DataKeyPairSpecEccSecgP256k1 {
				priv, err := x509.ParsePKCS8PrivateKey(out.PrivateKeyPlaintext)
				if err != nil {
					t.Fatal(err)
				}
				pubDER, _ := x509.MarshalPKIXPublicKey(priv.(crypto.Signer).Public())
				if !bytes.Equal(pubDER, out.PublicKey) {
					t.Fatal("public key does not match the private key")
				}
			} else if len(out.PublicKey) != 88 || len(out.PrivateKeyPlaintext) < 100 {
				t.Fatalf("secp256k1 pair sizes %d/%d", len(out.PublicKey), len(out.PrivateKeyPlaintext))
			}
			wp, err := e.client.GenerateDataKeyPairWithoutPlaintext(ctx(), &awskms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: &id, KeyPairSpec: spec})
			if err != nil || len(wp.PrivateKeyCiphertextBlob) == 0 || len(wp.PublicKey) == 0 {
				t.Fatalf("without plaintext: %v", err)
			}
		})
	}
}

func TestDeriveSharedSecret(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, &awskms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeKeyAgreement})
	pub, err := e.client.GetPublicKey(ctx(), &awskms.GetPublicKeyInput{KeyId: &id})
	if err != nil {
		t.Fatal(err)
	}
	peer, _ := ecdh.P256().GenerateKey(rand.Reader)
	peerDER, _ := x509.MarshalPKIXPublicKey(peer.PublicKey())
	out, err := e.client.DeriveSharedSecret(ctx(), &awskms.DeriveSharedSecretInput{KeyId: &id, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: peerDER})
	if err != nil {
		t.Fatal(err)
	}
	kmsPub, _ := x509.ParsePKIXPublicKey(pub.PublicKey)
	kp, _ := kmsPub.(*ecdsa.PublicKey).ECDH()
	want, _ := peer.ECDH(kp)
	if !bytes.Equal(out.SharedSecret, want) {
		t.Fatal("shared secret differs from the peer's")
	}
	p384, _ := ecdh.P384().GenerateKey(rand.Reader)
	wrongDER, _ := x509.MarshalPKIXPublicKey(p384.PublicKey())
	_, err = e.client.DeriveSharedSecret(ctx(), &awskms.DeriveSharedSecretInput{KeyId: &id, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: wrongDER})
	wantCode(t, err, "ValidationException")
	_, err = e.client.Sign(ctx(), &awskms.SignInput{KeyId: &id, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	wantCode(t, err, "InvalidKeyUsageException")
}

func TestHMAC(t *testing.T) {
	e := newEnv(t, "")
	for _, tc := range []struct {
		spec types.KeySpec
		alg  types.MacAlgorithmSpec
		size int
	}{{types.KeySpecHmac224, "HMAC_SHA_224", 28}, {types.KeySpecHmac256, "HMAC_SHA_256", 32}, {types.KeySpecHmac384, "HMAC_SHA_384", 48}, {types.KeySpecHmac512, "HMAC_SHA_512", 64}} {
		t.Run(string(tc.spec), func(t *testing.T) {
			id := e.createKey(t, &awskms.CreateKeyInput{KeySpec: tc.spec, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
			out, err := e.client.GenerateMac(ctx(), &awskms.GenerateMacInput{KeyId: &id, Message: []byte("msg"), MacAlgorithm: tc.alg})
			if err != nil || len(out.Mac) != tc.size {
				t.Fatalf("GenerateMac: %v", err)
			}
			again, _ := e.client.GenerateMac(ctx(), &awskms.GenerateMacInput{KeyId: &id, Message: []byte("msg"), MacAlgorithm: tc.alg})
			if !bytes.Equal(again.Mac, out.Mac) {
				t.Fatal("HMAC is not deterministic")
			}
			v, err := e.client.VerifyMac(ctx(), &awskms.VerifyMacInput{KeyId: &id, Message: []byte("msg"), Mac: out.Mac, MacAlgorithm: tc.alg})
			if err != nil || !v.MacValid {
				t.Fatalf("VerifyMac: %v", err)
			}
			_, err = e.client.VerifyMac(ctx(), &awskms.VerifyMacInput{KeyId: &id, Message: []byte("msh"), Mac: out.Mac, MacAlgorithm: tc.alg})
			wantCode(t, err, "KMSInvalidMacException")
			wrong := types.MacAlgorithmSpecHmacSha256
			if tc.alg == wrong {
				wrong = types.MacAlgorithmSpecHmacSha512
			}
			_, err = e.client.GenerateMac(ctx(), &awskms.GenerateMacInput{KeyId: &id, Message: []byte("msg"), MacAlgorithm: wrong})
			wantCode(t, err, "InvalidKeyUsageException")
			_, err = e.client.GenerateMac(ctx(), &awskms.GenerateMacInput{KeyId: &id, Message: make([]byte, 4097), MacAlgorithm: tc.alg})
			wantCode(t, err, "ValidationException")
			_, err = e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("x")})
			wantCode(t, err, "InvalidKeyUsageException")
		})
	}
}
