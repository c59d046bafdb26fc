package kmsapi

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/coffer/coffer/internal/secret/secrettest"
)

// TestRestartAndNoPlaintextOnDisk makes keys of every kind, restarts the server on the same
// directory, checks that everything made before still works, and then scans every file under
// the directory for every secret the test saw.
func TestRestartAndNoPlaintextOnDisk(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	var secrets [][]byte
	ec := map[string]string{"purpose": "restart"}

	sym := e.createKey(t, nil)
	plain := make([]byte, 32)
	rand.Read(plain)
	secrets = append(secrets, plain)
	enc, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &sym, Plaintext: plain, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	dk, err := e.client.GenerateDataKey(ctx(), &awskms.GenerateDataKeyInput{KeyId: &sym, KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, dk.Plaintext)
	pair, err := e.client.GenerateDataKeyPair(ctx(), &awskms.GenerateDataKeyPairInput{KeyId: &sym, KeyPairSpec: types.DataKeyPairSpecEccNistP256})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, pair.PrivateKeyPlaintext)
	if _, err := e.client.RotateKeyOnDemand(ctx(), &awskms.RotateKeyOnDemandInput{KeyId: &sym}); err != nil {
		t.Fatal(err)
	}
	enc2, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &sym, Plaintext: plain, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateAlias(ctx(), &awskms.CreateAliasInput{AliasName: strPtr("alias/kept"), TargetKeyId: &sym}); err != nil {
		t.Fatal(err)
	}

	edPair, err := e.client.GenerateDataKeyPair(ctx(), &awskms.GenerateDataKeyPairInput{KeyId: &sym, KeyPairSpec: types.DataKeyPairSpecEccNistEdwards25519})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, edPair.PrivateKeyPlaintext)
	// The material of every kind of signing key is sealed in the store and opens after a restart.
	signers := map[string][]byte{}
	for _, spec := range []types.KeySpec{types.KeySpecEccNistP256, types.KeySpecEccNistEdwards25519, types.KeySpecMlDsa44, types.KeySpecMlDsa87} {
		id := e.createKey(t, &awskms.CreateKeyInput{KeySpec: spec, KeyUsage: types.KeyUsageTypeSignVerify})
		pub, err := e.client.GetPublicKey(ctx(), &awskms.GetPublicKeyInput{KeyId: &id})
		if err != nil {
			t.Fatal(err)
		}
		signers[id] = pub.PublicKey
	}
	mac := e.createKey(t, &awskms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	m1, err := e.client.GenerateMac(ctx(), &awskms.GenerateMacInput{KeyId: &mac, Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	if err != nil {
		t.Fatal(err)
	}

	ext := e.createKey(t, &awskms.CreateKeyInput{Origin: types.OriginTypeExternal})
	p, err := e.client.GetParametersForImport(ctx(), &awskms.GetParametersForImportInput{KeyId: &ext, WrappingAlgorithm: types.AlgorithmSpecRsaAesKeyWrapSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	if err != nil {
		t.Fatal(err)
	}
	material := make([]byte, 32)
	rand.Read(material)
	secrets = append(secrets, material)
	if _, err := e.client.ImportKeyMaterial(ctx(), &awskms.ImportKeyMaterialInput{KeyId: &ext, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapMaterial(t, p.PublicKey, types.AlgorithmSpecRsaAesKeyWrapSha256, material),
		ExpirationModel:      types.ExpirationModelTypeKeyMaterialDoesNotExpire}); err != nil {
		t.Fatal(err)
	}
	encExt, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &ext, Plaintext: plain})
	if err != nil {
		t.Fatal(err)
	}

	e.restart(t)

	t.Run("ciphertexts made before decrypt after", func(t *testing.T) {
		for i, blob := range [][]byte{enc.CiphertextBlob, enc2.CiphertextBlob} {
			out, err := e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec})
			if err != nil || !bytes.Equal(out.Plaintext, plain) {
				t.Fatalf("blob %d: %v", i, err)
			}
		}
		out, err := e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ec})
		if err != nil || !bytes.Equal(out.Plaintext, dk.Plaintext) {
			t.Fatalf("data key: %v", err)
		}
		out, err = e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: encExt.CiphertextBlob})
		if err != nil || !bytes.Equal(out.Plaintext, plain) {
			t.Fatalf("imported key: %v", err)
		}
	})
	t.Run("keys, aliases and rotations survive", func(t *testing.T) {
		d, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: strPtr("alias/kept")})
		if err != nil || *d.KeyMetadata.KeyId != sym {
			t.Fatalf("alias: %v", err)
		}
		r, err := e.client.ListKeyRotations(ctx(), &awskms.ListKeyRotationsInput{KeyId: &sym})
		if err != nil || len(r.Rotations) != 1 {
			t.Fatalf("rotations: %v", err)
		}
		for id, pub := range signers {
			pub2, err := e.client.GetPublicKey(ctx(), &awskms.GetPublicKeyInput{KeyId: &id})
			if err != nil || !bytes.Equal(pub2.PublicKey, pub) {
				t.Fatalf("public key of %s changed: %v", pub2.KeySpec, err)
			}
			s, err := e.client.Sign(ctx(), &awskms.SignInput{KeyId: &id, Message: []byte("m"), SigningAlgorithm: pub2.SigningAlgorithms[0]})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.client.Verify(ctx(), &awskms.VerifyInput{KeyId: &id, Message: []byte("m"), Signature: s.Signature, SigningAlgorithm: pub2.SigningAlgorithms[0]}); err != nil {
				t.Fatalf("%s: %v", pub2.KeySpec, err)
			}
		}
		m2, err := e.client.GenerateMac(ctx(), &awskms.GenerateMacInput{KeyId: &mac, Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
		if err != nil || !bytes.Equal(m1.Mac, m2.Mac) {
			t.Fatalf("HMAC key changed: %v", err)
		}
	})
	t.Run("root key file is private", func(t *testing.T) {
		fi, err := os.Stat(filepath.Join(dir, "kms", "root.key"))
		if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
			t.Fatalf("root key file %v %v", fi, err)
		}
	})
	e.close()
	t.Run("no plaintext secret in any file", func(t *testing.T) {
		named := make(map[string][]byte, len(secrets))
		for i, sec := range secrets {
			named[fmt.Sprintf("secret %d", i)] = sec
		}
		secrettest.ScanDir(t, dir, named, 2)
	})
}

func strPtr(s string) *string { return &s }
