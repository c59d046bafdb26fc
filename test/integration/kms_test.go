package integration

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/coffer/coffer/internal/secret/secrettest"
	"github.com/coffer/coffer/internal/server"
)

func (e *env) kms() *kms.Client {
	tr := e.transport()
	return kms.New(kms.Options{
		Region:       e.region,
		BaseEndpoint: aws.String(e.srv.URL),
		Credentials:  aws.NewCredentialsCache(staticCreds{}),
		HTTPClient:   &httpClient{tr},
	})
}

// TestKMSOnTheServerEndpoint drives the KMS on the same HTTPS endpoint as S3, restarts the
// server on the same directory, and checks that ciphertexts survive and that no plaintext or
// data key the test saw is anywhere under the data directory.
func TestKMSOnTheServerEndpoint(t *testing.T) {
	dir := t.TempDir()
	srv, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", Region: "us-east-1", AccessKey: testAccessKey, SecretKey: testSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, srv: srv, region: "us-east-1"}
	e.s3 = e.client(testAccessKey, testSecretKey, nil)
	c := ctx(t)
	k := e.kms()
	key := must[*kms.CreateKeyOutput](t)(k.CreateKey(c, &kms.CreateKeyInput{Description: aws.String("server test")}))
	id := aws.ToString(key.KeyMetadata.KeyId)
	must[*kms.CreateAliasOutput](t)(k.CreateAlias(c, &kms.CreateAliasInput{AliasName: aws.String("alias/server-test"), TargetKeyId: aws.String(id)}))
	plaintext := []byte("a secret that must never reach the disk 7f3a9c")
	ctxMap := map[string]string{"purpose": "test"}
	enc := must[*kms.EncryptOutput](t)(k.Encrypt(c, &kms.EncryptInput{KeyId: aws.String("alias/server-test"), Plaintext: plaintext, EncryptionContext: ctxMap}))
	dk := must[*kms.GenerateDataKeyOutput](t)(k.GenerateDataKey(c, &kms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: kmstypes.DataKeySpecAes256}))
	// S3 keeps working beside the KMS on one endpoint.
	newBucket(t, e, "beside-kms")

	shutdown := func(s *server.Server) {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(sctx); err != nil {
			t.Fatal(err)
		}
	}
	shutdown(srv)
	srv2, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", Region: "us-east-1", AccessKey: testAccessKey, SecretKey: testSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(srv2)
	e.srv = srv2
	k = e.kms()
	dec := must[*kms.DecryptOutput](t)(k.Decrypt(c, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ctxMap}))
	if !bytes.Equal(dec.Plaintext, plaintext) {
		t.Fatal("ciphertext made before the restart decrypts to something else")
	}
	ddk := must[*kms.DecryptOutput](t)(k.Decrypt(c, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob}))
	if !bytes.Equal(ddk.Plaintext, dk.Plaintext) {
		t.Fatal("data key does not decrypt after the restart")
	}
	_, err = k.Decrypt(c, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"purpose": "other"}})
	var ice *kmstypes.InvalidCiphertextException
	if !asError(err, &ice) {
		t.Fatalf("wrong context: %v, want InvalidCiphertextException", err)
	}

	secrettest.ScanDir(t, dir, map[string][]byte{"plaintext": plaintext, "data key": dk.Plaintext}, 3)
}

// TestKMSRefusesAnotherRootKey: a server whose root key file was lost (and so regenerated) must
// refuse to start over keys sealed under the old one, not start and fail every request.
func TestKMSRefusesAnotherRootKey(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{Dir: dir, Listen: "127.0.0.1:0", Region: "us-east-1", AccessKey: testAccessKey, SecretKey: testSecretKey}
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, srv: srv, region: "us-east-1"}
	must[*kms.CreateKeyOutput](t)(e.kms().CreateKey(ctx(t), &kms.CreateKeyInput{}))
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(c); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "kms", "root.key")); err != nil {
		t.Fatal(err)
	}
	if srv, err := server.Start(cfg); err == nil {
		srv.Shutdown(c)
		t.Fatal("server started with a new root key over keys sealed under the lost one")
	} else if !strings.Contains(err.Error(), "root key does not open the stored keys") {
		t.Fatalf("start failed for another reason: %v", err)
	}
}
