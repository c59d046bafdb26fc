package kmsapi

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/coffer/coffer/internal/kms/keywrap"
)

// wrapMaterial wraps key material as a client would for each wrapping algorithm.
func wrapMaterial(t testing.TB, pubDER []byte, alg types.AlgorithmSpec, material []byte) []byte {
	t.Helper()
	pk, err := x509.ParsePKIXPublicKey(pubDER)
	if err != nil {
		t.Fatal(err)
	}
	pub := pk.(*rsa.PublicKey)
	h := sha256.New()
	if alg == types.AlgorithmSpecRsaesOaepSha1 || alg == types.AlgorithmSpecRsaAesKeyWrapSha1 {
		h = newSHA1()
	}
	switch alg {
	case types.AlgorithmSpecRsaesOaepSha1, types.AlgorithmSpecRsaesOaepSha256:
		out, err := rsa.EncryptOAEP(h, rand.Reader, pub, material, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	kek := make([]byte, 32)
	rand.Read(kek)
	wrappedKEK, err := rsa.EncryptOAEP(h, rand.Reader, pub, kek, nil)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := keywrap.Wrap(kek, material)
	if err != nil {
		t.Fatal(err)
	}
	return append(wrappedKEK, wrapped...)
}

func TestImportKeyMaterial(t *testing.T) {
	e := newEnv(t, "")
	for _, alg := range []types.AlgorithmSpec{types.AlgorithmSpecRsaesOaepSha256, types.AlgorithmSpecRsaAesKeyWrapSha256, types.AlgorithmSpecRsaesOaepSha1, types.AlgorithmSpecRsaAesKeyWrapSha1} {
		t.Run(string(alg), func(t *testing.T) {
			id := e.createKey(t, &awskms.CreateKeyInput{Origin: types.OriginTypeExternal})
			material := make([]byte, 32)
			rand.Read(material)
			params := func() *awskms.GetParametersForImportOutput {
				p, err := e.client.GetParametersForImport(ctx(), &awskms.GetParametersForImportInput{KeyId: &id, WrappingAlgorithm: alg, WrappingKeySpec: types.WrappingKeySpecRsa2048})
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			p := params()
			if p.ParametersValidTo.Sub(e.clock.Now().Add(24*time.Hour)).Abs() > time.Minute {
				t.Fatalf("ParametersValidTo %v", p.ParametersValidTo)
			}
			imp := func(p *awskms.GetParametersForImportOutput, m []byte, validTo *time.Time) error {
				in := &awskms.ImportKeyMaterialInput{KeyId: &id, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapMaterial(t, p.PublicKey, alg, m)}
				if validTo != nil {
					in.ValidTo, in.ExpirationModel = validTo, types.ExpirationModelTypeKeyMaterialExpires
				} else {
					in.ExpirationModel = types.ExpirationModelTypeKeyMaterialDoesNotExpire
				}
				_, err := e.client.ImportKeyMaterial(ctx(), in)
				return err
			}
			if err := imp(p, material, nil); err != nil {
				t.Fatal(err)
			}
			enc, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("imported")})
			if err != nil {
				t.Fatal(err)
			}
			d, _ := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &id})
			if d.KeyMetadata.KeyState != types.KeyStateEnabled || d.KeyMetadata.ExpirationModel != types.ExpirationModelTypeKeyMaterialDoesNotExpire {
				t.Fatalf("after import: %s %s", d.KeyMetadata.KeyState, d.KeyMetadata.ExpirationModel)
			}
			if _, err := e.client.DeleteImportedKeyMaterial(ctx(), &awskms.DeleteImportedKeyMaterialInput{KeyId: &id}); err != nil {
				t.Fatal(err)
			}
			_, err = e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
			wantCode(t, err, "KMSInvalidStateException")

			other := bytes.Clone(material)
			other[0] ^= 0xff
			wantCode(t, imp(p, other, nil), "IncorrectKeyMaterialException")
			if err := imp(p, material, nil); err != nil {
				t.Fatalf("re-import: %v", err)
			}
			dec, err := e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
			if err != nil || string(dec.Plaintext) != "imported" {
				t.Fatalf("decrypt after re-import: %v", err)
			}
		})
	}
	t.Run("expiry", func(t *testing.T) {
		id := e.createKey(t, &awskms.CreateKeyInput{Origin: types.OriginTypeExternal})
		p, err := e.client.GetParametersForImport(ctx(), &awskms.GetParametersForImportInput{KeyId: &id, WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
		if err != nil {
			t.Fatal(err)
		}
		material := make([]byte, 32)
		rand.Read(material)
		wrapped := wrapMaterial(t, p.PublicKey, types.AlgorithmSpecRsaesOaepSha256, material)
		in := &awskms.ImportKeyMaterialInput{KeyId: &id, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped,
			ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire, ValidTo: aws.Time(e.clock.Now().Add(time.Hour))}
		_, err = e.client.ImportKeyMaterial(ctx(), in)
		wantCode(t, err, "ValidationException")
		in.ExpirationModel = types.ExpirationModelTypeKeyMaterialExpires
		if _, err := e.client.ImportKeyMaterial(ctx(), in); err != nil {
			t.Fatal(err)
		}
		d, _ := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &id})
		if d.KeyMetadata.ValidTo == nil || d.KeyMetadata.ValidTo.Sub(*in.ValidTo).Abs() > time.Second {
			t.Fatalf("ValidTo %v", d.KeyMetadata.ValidTo)
		}
		e.clock.Add(2 * time.Hour)
		if err := e.svc.Tick(ctx()); err != nil {
			t.Fatal(err)
		}
		d, _ = e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &id})
		if d.KeyMetadata.KeyState != types.KeyStatePendingImport {
			t.Fatalf("state after expiry %s", d.KeyMetadata.KeyState)
		}
		e.clock.Add(23 * time.Hour)
		in.ValidTo = nil
		in.ExpirationModel = types.ExpirationModelTypeKeyMaterialDoesNotExpire
		_, err = e.client.ImportKeyMaterial(ctx(), in)
		wantCode(t, err, "ExpiredImportTokenException")
	})
	t.Run("errors", func(t *testing.T) {
		awsKey := e.createKey(t, nil)
		_, err := e.client.GetParametersForImport(ctx(), &awskms.GetParametersForImportInput{KeyId: &awsKey, WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
		wantCode(t, err, "UnsupportedOperationException")
		ext := e.createKey(t, &awskms.CreateKeyInput{Origin: types.OriginTypeExternal})
		_, err = e.client.GetParametersForImport(ctx(), &awskms.GetParametersForImportInput{KeyId: &ext, WrappingAlgorithm: types.AlgorithmSpecRsaesPkcs1V15, WrappingKeySpec: types.WrappingKeySpecRsa2048})
		wantCode(t, err, "ValidationException")
		p, err := e.client.GetParametersForImport(ctx(), &awskms.GetParametersForImportInput{KeyId: &ext, WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
		if err != nil {
			t.Fatal(err)
		}
		ext2 := e.createKey(t, &awskms.CreateKeyInput{Origin: types.OriginTypeExternal})
		wrapped := wrapMaterial(t, p.PublicKey, types.AlgorithmSpecRsaesOaepSha256, make([]byte, 32))
		_, err = e.client.ImportKeyMaterial(ctx(), &awskms.ImportKeyMaterialInput{KeyId: &ext2, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped})
		wantCode(t, err, "InvalidImportTokenException")
		_, err = e.client.ImportKeyMaterial(ctx(), &awskms.ImportKeyMaterialInput{KeyId: &ext, ImportToken: p.ImportToken, EncryptedKeyMaterial: []byte("garbage")})
		wantCode(t, err, "InvalidCiphertextException")
		short := wrapMaterial(t, p.PublicKey, types.AlgorithmSpecRsaesOaepSha256, make([]byte, 16))
		_, err = e.client.ImportKeyMaterial(ctx(), &awskms.ImportKeyMaterialInput{KeyId: &ext, ImportToken: p.ImportToken, EncryptedKeyMaterial: short})
		wantCode(t, err, "IncorrectKeyMaterialException")
	})
}
