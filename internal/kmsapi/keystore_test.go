package kmsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/coffer/coffer/internal/audit/audittest"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmstest"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm/softhsmtest"
	bolt "go.etcd.io/bbolt"
)

const (
	testCluster = "cluster-coffersofthsm"
	testAnchor  = "-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----\n"
)

// hsmEnv is a KMS server with one SoftHSM2 token configured as HSM testCluster, whose calls
// an audittest.Recorder records.
func hsmEnv(t *testing.T) (*env, pkcs11hsm.Config, *pkcs11hsm.HSMs) {
	return hsmEnvOf(t, softhsmtest.Token(t, testCluster, "coffer-test"))
}

// hsmEnvOf is hsmEnv with the HSM configured as cfg.
func hsmEnvOf(t *testing.T, cfg pkcs11hsm.Config) (*env, pkcs11hsm.Config, *pkcs11hsm.HSMs) {
	hsms, err := pkcs11hsm.New([]pkcs11hsm.Config{cfg})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{dir: t.TempDir(), hsms: hsms, rec: &audittest.Recorder{}, clock: kmstest.NewClock(time.Now().UTC())}
	e.open(t)
	t.Cleanup(e.close)
	return e, cfg, hsms
}

func (e *env) createStore(t *testing.T, name string) string {
	t.Helper()
	out, err := e.client.CreateCustomKeyStore(ctx(), &awskms.CreateCustomKeyStoreInput{
		CustomKeyStoreName: aws.String(name), CloudHsmClusterId: aws.String(testCluster),
		TrustAnchorCertificate: aws.String(testAnchor), KeyStorePassword: aws.String("kmsuser-password"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return *out.CustomKeyStoreId
}

// connectStore connects store id, which must succeed (the store may still be FAILED).
func (e *env) connectStore(t *testing.T, id string) {
	t.Helper()
	if _, err := e.client.ConnectCustomKeyStore(ctx(), &awskms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
}

// disconnectStore disconnects store id, which must succeed.
func (e *env) disconnectStore(t *testing.T, id string) {
	t.Helper()
	if _, err := e.client.DisconnectCustomKeyStore(ctx(), &awskms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) storeState(t *testing.T, id string) types.CustomKeyStoresListEntry {
	t.Helper()
	out, err := e.client.DescribeCustomKeyStores(ctx(), &awskms.DescribeCustomKeyStoresInput{CustomKeyStoreId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CustomKeyStores) != 1 {
		t.Fatalf("DescribeCustomKeyStores: %d stores", len(out.CustomKeyStores))
	}
	return out.CustomKeyStores[0]
}

// TestCustomKeyStoreLifecycle creates, describes, renames, connects, disconnects and deletes a
// store over SoftHSM2, with AWS's errors for what may not be done.
func TestCustomKeyStoreLifecycle(t *testing.T) {
	e, _, _ := hsmEnv(t)
	id := e.createStore(t, "store-one")
	s := e.storeState(t, id)
	if s.ConnectionState != types.ConnectionStateTypeDisconnected || *s.CloudHsmClusterId != testCluster ||
		*s.CustomKeyStoreName != "store-one" || s.CustomKeyStoreType != types.CustomKeyStoreTypeAwsCloudhsm || *s.TrustAnchorCertificate != testAnchor {
		t.Fatalf("new store = %+v", s)
	}
	errs := []struct {
		name string
		call func() error
		code string
	}{
		{"name in use", func() error {
			_, err := e.client.CreateCustomKeyStore(ctx(), &awskms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("store-one"),
				CloudHsmClusterId: aws.String(testCluster), TrustAnchorCertificate: aws.String(testAnchor), KeyStorePassword: aws.String("kmsuser-password")})
			return err
		}, "CustomKeyStoreNameInUseException"},
		{"cluster in use", func() error {
			_, err := e.client.CreateCustomKeyStore(ctx(), &awskms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("store-two"),
				CloudHsmClusterId: aws.String(testCluster), TrustAnchorCertificate: aws.String(testAnchor), KeyStorePassword: aws.String("kmsuser-password")})
			return err
		}, "CloudHsmClusterInUseException"},
		{"unknown cluster", func() error {
			_, err := e.client.CreateCustomKeyStore(ctx(), &awskms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("store-three"),
				CloudHsmClusterId: aws.String("cluster-notconfigured"), TrustAnchorCertificate: aws.String(testAnchor), KeyStorePassword: aws.String("kmsuser-password")})
			return err
		}, "CloudHsmClusterNotFoundException"},
		{"bad trust anchor", func() error {
			_, err := e.client.CreateCustomKeyStore(ctx(), &awskms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("store-four"),
				CloudHsmClusterId: aws.String(testCluster), TrustAnchorCertificate: aws.String("not a certificate"), KeyStorePassword: aws.String("kmsuser-password")})
			return err
		}, "IncorrectTrustAnchorException"},
		{"external key store", func() error {
			_, err := e.client.CreateCustomKeyStore(ctx(), &awskms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("xks"),
				CustomKeyStoreType: types.CustomKeyStoreTypeExternalKeyStore})
			return err
		}, "UnsupportedOperationException"},
		{"describe unknown", func() error {
			_, err := e.client.DescribeCustomKeyStores(ctx(), &awskms.DescribeCustomKeyStoresInput{CustomKeyStoreId: aws.String("cks-00000000000000000")})
			return err
		}, "CustomKeyStoreNotFoundException"},
		{"connect unknown", func() error {
			_, err := e.client.ConnectCustomKeyStore(ctx(), &awskms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String("cks-00000000000000000")})
			return err
		}, "CustomKeyStoreNotFoundException"},
		{"key in an unknown store", func() error {
			_, err := e.client.CreateKey(ctx(), &awskms.CreateKeyInput{Origin: types.OriginTypeAwsCloudhsm, CustomKeyStoreId: aws.String("cks-00000000000000000")})
			return err
		}, "CustomKeyStoreNotFoundException"},
		{"asymmetric key in a store", func() error {
			_, err := e.client.CreateKey(ctx(), &awskms.CreateKeyInput{Origin: types.OriginTypeAwsCloudhsm, CustomKeyStoreId: aws.String(id),
				KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
			return err
		}, "UnsupportedOperationException"},
		{"AWS_CLOUDHSM origin without a store", func() error {
			_, err := e.client.CreateKey(ctx(), &awskms.CreateKeyInput{Origin: types.OriginTypeAwsCloudhsm})
			return err
		}, "UnsupportedOperationException"},
		{"key in a disconnected store", func() error {
			_, err := e.client.CreateKey(ctx(), &awskms.CreateKeyInput{Origin: types.OriginTypeAwsCloudhsm, CustomKeyStoreId: aws.String(id)})
			return err
		}, "CustomKeyStoreInvalidStateException"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}

	t.Run("rename", func(t *testing.T) {
		if _, err := e.client.UpdateCustomKeyStore(ctx(), &awskms.UpdateCustomKeyStoreInput{CustomKeyStoreId: aws.String(id), NewCustomKeyStoreName: aws.String("renamed")}); err != nil {
			t.Fatal(err)
		}
		if got := *e.storeState(t, id).CustomKeyStoreName; got != "renamed" {
			t.Fatalf("name = %s", got)
		}
	})
	t.Run("connect", func(t *testing.T) {
		e.connectStore(t, id)
		if got := e.storeState(t, id).ConnectionState; got != types.ConnectionStateTypeConnected {
			t.Fatalf("state = %s", got)
		}
		_, err := e.client.DeleteCustomKeyStore(ctx(), &awskms.DeleteCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)})
		wantCode(t, err, "CustomKeyStoreInvalidStateException")
		_, err = e.client.UpdateCustomKeyStore(ctx(), &awskms.UpdateCustomKeyStoreInput{CustomKeyStoreId: aws.String(id), KeyStorePassword: aws.String("another-password")})
		wantCode(t, err, "CustomKeyStoreInvalidStateException")
	})
	t.Run("survives a restart", func(t *testing.T) {
		e.restart(t)
		if got := e.storeState(t, id).ConnectionState; got != types.ConnectionStateTypeConnected {
			t.Fatalf("state after restart = %s", got)
		}
	})
	t.Run("audited without the password", func(t *testing.T) {
		var ops []string
		for _, ev := range e.rec.(*audittest.Recorder).Events() {
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte("kmsuser-password")) || bytes.Contains(b, []byte("another-password")) {
				t.Fatalf("a record holds the key store password: %s", b)
			}
			ops = append(ops, ev.EventName)
		}
		for _, op := range []string{"CreateCustomKeyStore", "ConnectCustomKeyStore", "UpdateCustomKeyStore", "DescribeCustomKeyStores"} {
			if !slices.Contains(ops, op) {
				t.Errorf("no %s record in %v", op, ops)
			}
		}
	})
	t.Run("disconnect and delete", func(t *testing.T) {
		e.disconnectStore(t, id)
		if got := e.storeState(t, id).ConnectionState; got != types.ConnectionStateTypeDisconnected {
			t.Fatalf("state = %s", got)
		}
		if _, err := e.client.DeleteCustomKeyStore(ctx(), &awskms.DeleteCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.DescribeCustomKeyStores(ctx(), &awskms.DescribeCustomKeyStoresInput{CustomKeyStoreId: aws.String(id)})
		wantCode(t, err, "CustomKeyStoreNotFoundException")
	})
}

// TestCustomKeyStoreKeys runs a key generated in SoftHSM2 through the symmetric operations,
// disconnects and reconnects its store, loses one key behind Coffer's back and deletes another.
func TestCustomKeyStoreKeys(t *testing.T) {
	e, _, hsms := hsmEnv(t)
	id := e.createStore(t, "keys")
	e.connectStore(t, id)
	key := e.createKey(t, &awskms.CreateKeyInput{Origin: types.OriginTypeAwsCloudhsm, CustomKeyStoreId: aws.String(id)})
	soft := e.createKey(t, nil)
	ec := map[string]string{"purpose": "hsm-test"}
	plain := []byte("sealed inside the HSM")

	d, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if m := d.KeyMetadata; aws.ToString(m.CustomKeyStoreId) != id || m.Origin != types.OriginTypeAwsCloudhsm || aws.ToString(m.CloudHsmClusterId) != testCluster || m.KeyState != types.KeyStateEnabled {
		t.Fatalf("metadata = %+v", m)
	}
	enc, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: plain, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	decrypt := func(blob []byte, ec map[string]string) ([]byte, error) {
		out, err := e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec})
		if err != nil {
			return nil, err
		}
		return out.Plaintext, nil
	}
	t.Run("crypto", func(t *testing.T) {
		if got, err := decrypt(enc.CiphertextBlob, ec); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("decrypt = %q, %v", got, err)
		}
		_, err := decrypt(enc.CiphertextBlob, map[string]string{"purpose": "other"})
		wantCode(t, err, "InvalidCiphertextException")
		tampered := bytes.Clone(enc.CiphertextBlob)
		tampered[len(tampered)-1] ^= 1
		_, err = decrypt(tampered, ec)
		wantCode(t, err, "InvalidCiphertextException")
		dk, err := e.client.GenerateDataKey(ctx(), &awskms.GenerateDataKeyInput{KeyId: aws.String(key), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decrypt(dk.CiphertextBlob, ec); err != nil || !bytes.Equal(got, dk.Plaintext) {
			t.Fatalf("data key decrypt: %v", err)
		}
		wo, err := e.client.GenerateDataKeyWithoutPlaintext(ctx(), &awskms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(key), NumberOfBytes: aws.Int32(16)})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decrypt(wo.CiphertextBlob, nil); err != nil || len(got) != 16 {
			t.Fatalf("data key without plaintext: %d bytes, %v", len(got), err)
		}
		re, err := e.client.ReEncrypt(ctx(), &awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ec, DestinationKeyId: aws.String(soft)})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decrypt(re.CiphertextBlob, nil); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("re-encrypted to a software key: %q, %v", got, err)
		}
		back, err := e.client.ReEncrypt(ctx(), &awskms.ReEncryptInput{CiphertextBlob: re.CiphertextBlob, DestinationKeyId: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decrypt(back.CiphertextBlob, nil); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("re-encrypted into the HSM key: %q, %v", got, err)
		}
		_, err = e.client.EnableKeyRotation(ctx(), &awskms.EnableKeyRotationInput{KeyId: aws.String(key)})
		wantCode(t, err, "UnsupportedOperationException")
		rnd, err := e.client.GenerateRandom(ctx(), &awskms.GenerateRandomInput{NumberOfBytes: aws.Int32(48), CustomKeyStoreId: aws.String(id)})
		if err != nil || len(rnd.Plaintext) != 48 {
			t.Fatalf("GenerateRandom in the store: %v", err)
		}
	})
	t.Run("disconnect makes the key unavailable", func(t *testing.T) {
		e.disconnectStore(t, id)
		_, err := decrypt(enc.CiphertextBlob, ec)
		wantCode(t, err, "KMSInvalidStateException")
		_, err = e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: plain})
		wantCode(t, err, "KMSInvalidStateException")
		d, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: aws.String(key)})
		if err != nil || d.KeyMetadata.KeyState != types.KeyStateUnavailable {
			t.Fatalf("DescribeKey: %v %v", d, err)
		}
		_, err = e.client.DeleteCustomKeyStore(ctx(), &awskms.DeleteCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)})
		wantCode(t, err, "CustomKeyStoreHasCMKsException")
		_, err = e.client.GenerateRandom(ctx(), &awskms.GenerateRandomInput{NumberOfBytes: aws.Int32(8), CustomKeyStoreId: aws.String(id)})
		wantCode(t, err, "CustomKeyStoreInvalidStateException")
	})
	t.Run("reconnect restores it", func(t *testing.T) {
		e.connectStore(t, id)
		if got, err := decrypt(enc.CiphertextBlob, ec); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("decrypt after reconnect = %q, %v", got, err)
		}
	})
	t.Run("key destroyed in the HSM", func(t *testing.T) {
		lost := e.createKey(t, &awskms.CreateKeyInput{Origin: types.OriginTypeAwsCloudhsm, CustomKeyStoreId: aws.String(id)})
		tok, err := hsms.Connect(ctx(), testCluster)
		if err != nil {
			t.Fatal(err)
		}
		defer tok.Close()
		if err := tok.DestroyKey(ctx(), lost); err != nil {
			t.Fatal(err)
		}
		_, err = e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: aws.String(lost), Plaintext: plain})
		wantCode(t, err, "KMSInvalidStateException")
		if got, err := decrypt(enc.CiphertextBlob, ec); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("the other HSM key: %q, %v", got, err)
		}
	})
	t.Run("deletion destroys the HSM key", func(t *testing.T) {
		if _, err := e.client.ScheduleKeyDeletion(ctx(), &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(key), PendingWindowInDays: aws.Int32(7)}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(8 * 24 * time.Hour)
		if err := e.svc.Tick(ctx()); err != nil {
			t.Fatal(err)
		}
		tok, err := hsms.Connect(ctx(), testCluster)
		if err != nil {
			t.Fatal(err)
		}
		defer tok.Close()
		if _, err := tok.Seal(ctx(), key, make([]byte, 12), nil, plain); !errors.Is(err, kms.ErrHSMKeyNotFound) {
			t.Fatalf("HSM key after deletion: %v, want ErrHSMKeyNotFound", err)
		}
	})
}

// TestCustomKeyStoreWrongPIN: a wrong PIN fails the connection with INVALID_CREDENTIALS while
// the server serves its other keys; with the PIN file corrected, disconnect and connect work.
func TestCustomKeyStoreWrongPIN(t *testing.T) {
	e, cfg, _ := hsmEnv(t)
	soft := e.createKey(t, nil)
	id := e.createStore(t, "pin")
	if err := os.WriteFile(cfg.PINFile, []byte("wrong-pin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.connectStore(t, id)
	s := e.storeState(t, id)
	if s.ConnectionState != types.ConnectionStateTypeFailed || s.ConnectionErrorCode != types.ConnectionErrorCodeTypeInvalidCredentials {
		t.Fatalf("state = %s, code = %s", s.ConnectionState, s.ConnectionErrorCode)
	}
	if _, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: aws.String(soft), Plaintext: []byte("x")}); err != nil {
		t.Fatalf("another key during the failure: %v", err)
	}
	_, err := e.client.ConnectCustomKeyStore(ctx(), &awskms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)})
	wantCode(t, err, "CustomKeyStoreInvalidStateException")
	if err := os.WriteFile(cfg.PINFile, []byte(softhsmtest.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.disconnectStore(t, id)
	e.connectStore(t, id)
	if got := e.storeState(t, id).ConnectionState; got != types.ConnectionStateTypeConnected {
		t.Fatalf("state with the right PIN = %s", got)
	}
}

// TestCustomKeyStoreRecordTampered: a key store record changed on disk (pointed at another
// HSM) does not verify: the store answers KMSInternalException, never another HSM.
func TestCustomKeyStoreRecordTampered(t *testing.T) {
	e, _, _ := hsmEnv(t)
	id := e.createStore(t, "tampered")
	err := e.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("kms.keystores"))
		v := bytes.Replace(b.Get([]byte(id)), []byte(testCluster), []byte("cluster-someoneelses"), 1)
		return b.Put([]byte(id), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.DescribeCustomKeyStores(ctx(), &awskms.DescribeCustomKeyStoresInput{CustomKeyStoreId: aws.String(id)})
	wantCode(t, err, "KMSInternalException")
	_, err = e.client.ConnectCustomKeyStore(ctx(), &awskms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)})
	wantCode(t, err, "KMSInternalException")
}
