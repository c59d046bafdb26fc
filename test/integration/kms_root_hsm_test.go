//go:build cgo

package integration

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	ckms "github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm/softhsmtest"
	"github.com/coffer/coffer/internal/server"
)

// rootHSM is a fresh SoftHSM2 token configured as --kms-root-pkcs11 would configure it.
func rootHSM(t *testing.T) (*ckms.RootHSM, pkcs11hsm.Config) {
	t.Helper()
	cfg := softhsmtest.Token(t, pkcs11hsm.RootName, "coffer-root")
	return rootHSMOf(t, cfg), cfg
}

func rootHSMOf(t *testing.T, cfg pkcs11hsm.Config) *ckms.RootHSM {
	t.Helper()
	h, err := pkcs11hsm.New([]pkcs11hsm.Config{cfg})
	if err != nil {
		t.Fatal(err)
	}
	return &ckms.RootHSM{HSMs: h, Name: cfg.Name}
}

// rootSealed is what a server sealed under its KMS root key: a customer managed key with a
// ciphertext blob of it, and an SSE-KMS object under it.
type rootSealed struct {
	keyID, bucket, object string
	blob, plaintext       []byte
}

func sealUnderRoot(t *testing.T, e *env, name string) rootSealed {
	t.Helper()
	key := must[*kms.CreateKeyOutput](t)(e.kms().CreateKey(ctx(t), &kms.CreateKeyInput{Description: aws.String(name)}))
	r := rootSealed{keyID: *key.KeyMetadata.KeyId, bucket: "root-" + name, object: "sealed", plaintext: []byte("sealed before " + name)}
	enc := must[*kms.EncryptOutput](t)(e.kms().Encrypt(ctx(t), &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: r.plaintext}))
	r.blob = enc.CiphertextBlob
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String(r.bucket)}))
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(r.object),
		Body: bytes.NewReader(r.plaintext), ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(r.keyID)}))
	return r
}

// check decrypts the blob, reads the object back and makes a new data key under the key.
func (r rootSealed) check(t *testing.T, e *env) {
	t.Helper()
	dec, err := e.kms().Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: r.blob})
	if err != nil || !bytes.Equal(dec.Plaintext, r.plaintext) {
		t.Fatalf("Decrypt of %s = %q, %v", r.keyID, dec.Plaintext, err)
	}
	got := must[*s3.GetObjectOutput](t)(e.s3.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(r.object)}))
	body, err := io.ReadAll(got.Body)
	if err != nil || !bytes.Equal(body, r.plaintext) {
		t.Fatalf("GetObject %s/%s = %q, %v", r.bucket, r.object, body, err)
	}
	must[*kms.GenerateDataKeyOutput](t)(e.kms().GenerateDataKey(ctx(t), &kms.GenerateDataKeyInput{KeyId: aws.String(r.keyID), NumberOfBytes: aws.Int32(32)}))
}

// wantRootFiles checks which of DIR/kms/root.key and DIR/kms/root.key.wrapped exist.
func wantRootFiles(t *testing.T, dir string, plain, wrapped bool) {
	t.Helper()
	for name, want := range map[string]bool{"root.key": plain, ckms.WrappedRootKeyName: wrapped} {
		_, err := os.Stat(filepath.Join(dir, "kms", name))
		if got := err == nil; got != want {
			t.Errorf("kms/%s exists: %v, want %v (%v)", name, got, want, err)
		}
	}
}

// TestKMSRootInHSM starts a server on a fresh data directory with --kms-root-pkcs11: its root
// key exists only wrapped by the token, and after a restart every key and object sealed
// under it is usable.
func TestKMSRootInHSM(t *testing.T) {
	h, _ := rootHSM(t)
	dir := t.TempDir()
	e, stop := startStoppableWith(t, server.Config{Dir: dir, KMSRootHSM: h})
	sealed := sealUnderRoot(t, e, "fresh")
	stop()
	wantRootFiles(t, dir, false, true)

	e, stop = startStoppableWith(t, server.Config{Dir: dir, KMSRootHSM: h})
	defer stop()
	sealed.check(t, e)
	sealUnderRoot(t, e, "restarted").check(t, e)
}

// TestKMSRootHSMMigration moves the root key of a data directory into the HSM (admin kms-root
// wrap) and out again (unwrap): what was sealed before each step opens after it.
func TestKMSRootHSMMigration(t *testing.T) {
	h, _ := rootHSM(t)
	dir := t.TempDir()
	e, stop := startStoppableWith(t, server.Config{Dir: dir})
	before := sealUnderRoot(t, e, "file")
	stop()
	plain, err := os.ReadFile(filepath.Join(dir, "kms", "root.key"))
	if err != nil {
		t.Fatal(err)
	}

	if err := server.WrapKMSRoot(context.Background(), server.Config{Dir: dir, KMSRootHSM: h}); err != nil {
		t.Fatalf("wrap: %v", err)
	}
	wantRootFiles(t, dir, false, true)
	if w, _ := os.ReadFile(filepath.Join(dir, "kms", ckms.WrappedRootKeyName)); bytes.Contains(w, plain) {
		t.Fatal("the wrapped file holds the plaintext root key")
	}
	e, stop = startStoppableWith(t, server.Config{Dir: dir, KMSRootHSM: h})
	before.check(t, e)
	wrapped := sealUnderRoot(t, e, "wrapped")
	stop()

	if err := server.UnwrapKMSRoot(context.Background(), server.Config{Dir: dir, KMSRootHSM: h}); err != nil {
		t.Fatalf("unwrap: %v", err)
	}
	wantRootFiles(t, dir, true, false)
	if back, _ := os.ReadFile(filepath.Join(dir, "kms", "root.key")); !bytes.Equal(back, plain) {
		t.Fatal("unwrap gave back another root key")
	}
	e, stop = startStoppableWith(t, server.Config{Dir: dir})
	defer stop()
	before.check(t, e)
	wrapped.check(t, e)
}

// TestKMSRootHSMRefusedStarts: a start that cannot unwrap the root key, or where a root key
// file and the HSM could both apply, fails naming the problem, and makes no root key.
func TestKMSRootHSMRefusedStarts(t *testing.T) {
	h, cfg := rootHSM(t)
	dir := t.TempDir()
	_, stop := startStoppableWith(t, server.Config{Dir: dir, KMSRootHSM: h})
	stop()
	wrappedPath := filepath.Join(dir, "kms", ckms.WrappedRootKeyName)
	wrapped, err := os.ReadFile(wrappedPath)
	if err != nil {
		t.Fatal(err)
	}
	withCfg := func(change func(*pkcs11hsm.Config)) *ckms.RootHSM {
		c := cfg
		change(&c)
		return rootHSMOf(t, c)
	}
	wrongPIN := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(wrongPIN, []byte("not-the-pin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cfg   server.Config
		setup func(t *testing.T)
		want  string
	}{
		{"wrong PIN", server.Config{KMSRootHSM: withCfg(func(c *pkcs11hsm.Config) { c.PINFile = wrongPIN })}, nil,
			"the token refused the PIN"},
		{"token missing", server.Config{KMSRootHSM: withCfg(func(c *pkcs11hsm.Config) { c.Token = "no-such-token" })}, nil,
			`the token is missing (check token= or slot=, and the module): pkcs11hsm: kms-root: no token labelled "no-such-token"`},
		{"another key label", server.Config{KMSRootHSM: &ckms.RootHSM{HSMs: h.HSMs, Name: h.Name, KeyLabel: "other"}}, nil,
			`is wrapped by the HSM key labelled "coffer-kms-root", not key-label=other`},
		{"root key file and HSM", server.Config{KMSRootHSM: h, KMSRootKeyFile: filepath.Join(t.TempDir(), "root.key")}, nil,
			"give --kms-root-key-file or --kms-root-pkcs11, not both"},
		{"wrapped root key, no HSM", server.Config{}, nil,
			"is wrapped by an HSM"},
		{"plaintext root key beside the wrapped one", server.Config{KMSRootHSM: h}, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "kms", "root.key"), make([]byte, 32), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(filepath.Join(dir, "kms", "root.key")) })
		}, "holds a plaintext root key: move it into the HSM with `coffer admin kms-root wrap`"},
		{"wrapped root key lost", server.Config{KMSRootHSM: h}, func(t *testing.T) {
			if err := os.Rename(wrappedPath, wrappedPath+".away"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if _, err := os.Stat(wrappedPath); err == nil {
					t.Error("a refused start made a new wrapped root key")
				}
				os.Rename(wrappedPath+".away", wrappedPath)
			})
		}, "root.key.wrapped, where the HSM keeps it wrapped, is missing: restore it"},
		{"wrapping key gone from the token", server.Config{KMSRootHSM: h}, func(t *testing.T) { softhsmtest.DestroyKey(t, cfg, ckms.DefaultRootWrapLabel) },
			`the HSM has no key labelled "coffer-kms-root", which wraps the root key`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			c := tc.cfg
			c.Dir, c.Listen, c.AccessKey, c.SecretKey = dir, "127.0.0.1:0", testAccessKey, testSecretKey
			srv, err := server.Start(c)
			if err == nil {
				srv.Shutdown(context.Background())
				t.Fatal("the server started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), softhsmtest.PIN) {
				t.Fatalf("the error shows the PIN: %v", err)
			}
			if now, err := os.ReadFile(wrappedPath); err == nil && !bytes.Equal(now, wrapped) { // (missing only where the case moved it)
				t.Fatal("a refused start changed the wrapped root key")
			}
		})
	}
	wantRootFiles(t, dir, false, true)
}
