package integration

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/secret/secrettest"
)

// TestAuditTrailHoldsNoSecrets runs SSE-KMS, SSE-C, IAM, STS and KMS traffic (with data events
// selected, so object calls are recorded too) whose secrets the test knows, then reads every
// file under DIR/audit — journal, log files (decompressed), digests, signatures, keys — and
// every record: none holds any of the secrets, raw or base64 or hex encoded.
func TestAuditTrailHoldsNoSecrets(t *testing.T) {
	e := startServer(t)
	sel := &selectAll{}
	sel.on.Store(true)
	e.srv.AuditLog().SetDataSelector(sel)
	account := e.srv.Identity.AccountID
	secrets := map[string][]byte{"root secret key": []byte(testSecretKey)}
	add := func(name string, v []byte) {
		if len(v) < 8 {
			t.Fatalf("secret %s too short to search for", name)
		}
		secrets[name] = bytes.Clone(v)
	}

	// IAM and STS: an access key's secret, a role session's secret and token.
	alice, _ := e.newUser(t, rootCreds, "alice")
	add("CreateAccessKey secret", []byte(alice.Secret))
	e.putUserPolicy(t, rootCreds, "alice", "all", allowAll)
	session, _, err := e.assumeRole(t, alice, e.createRole(t, rootCreds, "App", trustPolicy(account)), "job", nil)
	if err != nil {
		t.Fatal(err)
	}
	add("AssumeRole secret", []byte(session.Secret))
	add("AssumeRole session token", []byte(session.Token))

	// KMS: Encrypt of a known plaintext, a data key, imported key material.
	kc := e.kmsAs(alice)
	keyID := *must[*kms.CreateKeyOutput](t)(kc.CreateKey(ctx(t), &kms.CreateKeyInput{})).KeyMetadata.KeyId
	plaintext := []byte("known KMS plaintext: the launch codes 0451")
	add("Encrypt plaintext", plaintext)
	enc := must[*kms.EncryptOutput](t)(kc.Encrypt(ctx(t), &kms.EncryptInput{KeyId: &keyID, Plaintext: plaintext}))
	add("Encrypt ciphertext", enc.CiphertextBlob)
	must[*kms.DecryptOutput](t)(kc.Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}))
	dk := must[*kms.GenerateDataKeyOutput](t)(kc.GenerateDataKey(ctx(t), &kms.GenerateDataKeyInput{KeyId: &keyID, KeySpec: kmstypes.DataKeySpecAes256}))
	add("GenerateDataKey plaintext", dk.Plaintext)
	add("GenerateDataKey ciphertext", dk.CiphertextBlob)
	rnd := must[*kms.GenerateRandomOutput](t)(kc.GenerateRandom(ctx(t), &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(32)}))
	add("GenerateRandom bytes", rnd.Plaintext)
	importMaterial(t, kc, add)

	// The same through a role session without permissions: denied, and recorded.
	_, err = e.kmsAs(session).Encrypt(ctx(t), &kms.EncryptInput{KeyId: &keyID, Plaintext: plaintext})
	wantAPIError(t, err, "AccessDeniedException", 400)

	// SSE-KMS and SSE-C objects with known bodies and a known customer key.
	s3c := e.s3As(alice)
	bucket := "secrets"
	must[*s3.CreateBucketOutput](t)(s3c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: &bucket}))
	unblockSSEC(t, e, bucket)
	kmsBody := []byte("known SSE-KMS object body, never in a record")
	add("SSE-KMS object body", kmsBody)
	must[*s3.PutObjectOutput](t)(s3c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("kms"), Body: bytes.NewReader(kmsBody),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: &keyID}))
	must[*s3.GetObjectOutput](t)(s3c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("kms")})).Body.Close()
	ck := newCustomerKey(42)
	add("SSE-C key", ck.raw)
	sum := md5.Sum(ck.raw)
	add("SSE-C key MD5", sum[:])
	cBody := []byte("known SSE-C object body, never in a record")
	add("SSE-C object body", cBody)
	must[*s3.PutObjectOutput](t)(s3c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("ssec"), Body: bytes.NewReader(cBody),
		SSECustomerAlgorithm: ck.alg(), SSECustomerKey: ck.key(), SSECustomerKeyMD5: ck.md5()}))
	must[*s3.GetObjectOutput](t)(s3c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("ssec"),
		SSECustomerAlgorithm: ck.alg(), SSECustomerKey: ck.key(), SSECustomerKeyMD5: ck.md5()})).Body.Close()
	must[*s3.CopyObjectOutput](t)(s3c.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: &bucket, Key: aws.String("ssec-copy"), CopySource: aws.String(bucket + "/ssec"),
		CopySourceSSECustomerAlgorithm: ck.alg(), CopySourceSSECustomerKey: ck.key(), CopySourceSSECustomerKeyMD5: ck.md5(),
		SSECustomerAlgorithm: ck.alg(), SSECustomerKey: ck.key(), SSECustomerKeyMD5: ck.md5()}))

	// The traffic was recorded (so the search below searched something).
	for _, name := range []string{"CreateAccessKey", "AssumeRole", "Encrypt", "Decrypt", "GenerateDataKey", "GenerateRandom",
		"GetParametersForImport", "ImportKeyMaterial", "PutObject", "GetObject", "CopyObject"} {
		if len(e.auditEvents(t, audit.Filter{EventName: name})) == 0 {
			t.Errorf("no record of %s", name)
		}
	}
	ssec := e.auditEvent(t, audit.Filter{EventName: "PutObject", ResourceName: "arn:aws:s3:::secrets/ssec"})
	if param(ssec, "x-amz-server-side-encryption-customer-algorithm") != "AES256" {
		t.Errorf("the SSE-C PUT's record: %s", recordJSON(ssec))
	}

	if err := e.srv.AuditDigest(ctx(t)); err != nil { // finish the log file and sign a digest
		t.Fatal(err)
	}
	t.Run("records", func(t *testing.T) {
		evs := e.auditEvents(t, audit.Filter{})
		for _, ev := range evs {
			secrettest.Scan(t, "record "+ev.EventName+" "+ev.EventID, []byte(recordJSON(ev)), secrets)
		}
		if len(evs) < 20 {
			t.Errorf("only %d records", len(evs))
		}
	})
	t.Run("files", func(t *testing.T) {
		// The journal, a log file, a digest and its signature, the signing keys.
		secrettest.ScanDir(t, e.srv.AuditDir(), secrets, 4)
	})
}

// importMaterial imports known key material into a new EXTERNAL key, adding the material, the
// wrapped material and the import token to the known secrets.
func importMaterial(t *testing.T, kc *kms.Client, add func(string, []byte)) {
	t.Helper()
	id := *must[*kms.CreateKeyOutput](t)(kc.CreateKey(ctx(t), &kms.CreateKeyInput{Origin: kmstypes.OriginTypeExternal})).KeyMetadata.KeyId
	p := must[*kms.GetParametersForImportOutput](t)(kc.GetParametersForImport(ctx(t), &kms.GetParametersForImportInput{KeyId: &id,
		WrappingAlgorithm: kmstypes.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: kmstypes.WrappingKeySpecRsa2048}))
	pk, err := x509.ParsePKIXPublicKey(p.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	material := randomBytes(7, 32)
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pk.(*rsa.PublicKey), material, nil)
	if err != nil {
		t.Fatal(err)
	}
	add("imported key material", material)
	add("encrypted key material", wrapped)
	add("import token", p.ImportToken)
	must[*kms.ImportKeyMaterialOutput](t)(kc.ImportKeyMaterial(ctx(t), &kms.ImportKeyMaterialInput{KeyId: &id, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapped, ExpirationModel: kmstypes.ExpirationModelTypeKeyMaterialDoesNotExpire}))
}
