//go:build cgo

package kmsapi

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm/softhsmtest"
	"github.com/miekg/pkcs11"
)

// TestCustomKeyStoreHSMDrops: a connected store (its HSM chosen by slot number) whose token
// resets keeps working on new sessions; when the token then refuses the login, the store is
// FAILED with INVALID_CREDENTIALS and its keys Unavailable, while other keys keep working;
// disconnecting and connecting it once the HSM is back restores it.
func TestCustomKeyStoreHSMDrops(t *testing.T) {
	cfg := softhsmtest.Token(t, testCluster, "coffer-drop")
	p := pkcs11.New(cfg.Module)
	p.Initialize()
	cfg.Slot, cfg.BySlot, cfg.Token = softhsmtest.Slot(t, p), true, ""
	p.Finalize()
	p.Destroy()
	e, _, _ := hsmEnvOf(t, cfg)
	id := e.createStore(t, "drops")
	e.connectStore(t, id)
	if s := e.storeState(t, id); s.ConnectionState != types.ConnectionStateTypeConnected {
		t.Fatalf("a store over slot %d = %s %s", cfg.Slot, s.ConnectionState, s.ConnectionErrorCode)
	}
	key := e.createKey(t, &awskms.CreateKeyInput{Origin: types.OriginTypeAwsCloudhsm, CustomKeyStoreId: aws.String(id)})
	soft := e.createKey(t, nil)
	plain := []byte("sealed in the HSM")
	enc, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: plain})
	if err != nil {
		t.Fatal(err)
	}
	decrypt := func() error {
		out, err := e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		if err == nil && !bytes.Equal(out.Plaintext, plain) {
			t.Fatalf("Decrypt = %q", out.Plaintext)
		}
		return err
	}
	keyState := func() types.KeyState {
		d, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return d.KeyMetadata.KeyState
	}

	t.Run("token reset", func(t *testing.T) {
		softhsmtest.Reset(t, cfg)
		if err := decrypt(); err != nil {
			t.Fatalf("Decrypt after a token reset: %v", err)
		}
		if s := e.storeState(t, id); s.ConnectionState != types.ConnectionStateTypeConnected {
			t.Fatalf("state = %s", s.ConnectionState)
		}
	})
	t.Run("login refused after a reset", func(t *testing.T) {
		if err := os.WriteFile(cfg.PINFile, []byte("changed-pin\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		softhsmtest.Reset(t, cfg)
		// DescribeCustomKeyStores finds out by itself, before any key is used.
		s := e.storeState(t, id)
		if s.ConnectionState != types.ConnectionStateTypeFailed || s.ConnectionErrorCode != types.ConnectionErrorCodeTypeInvalidCredentials {
			t.Fatalf("state = %s, code = %s; want FAILED, INVALID_CREDENTIALS", s.ConnectionState, s.ConnectionErrorCode)
		}
		wantCode(t, decrypt(), "KMSInvalidStateException")
		if got := keyState(); got != types.KeyStateUnavailable {
			t.Fatalf("KeyState = %s, want Unavailable", got)
		}
		if _, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: aws.String(soft), Plaintext: plain}); err != nil {
			t.Fatalf("a key outside the store: %v", err)
		}
		_, err := e.client.ConnectCustomKeyStore(ctx(), &awskms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(id)})
		wantCode(t, err, "CustomKeyStoreInvalidStateException")
	})
	t.Run("reconnected", func(t *testing.T) {
		if err := os.WriteFile(cfg.PINFile, []byte(softhsmtest.PIN+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		e.disconnectStore(t, id)
		e.connectStore(t, id)
		if s := e.storeState(t, id); s.ConnectionState != types.ConnectionStateTypeConnected {
			t.Fatalf("state = %s", s.ConnectionState)
		}
		if err := decrypt(); err != nil {
			t.Fatalf("Decrypt after reconnecting: %v", err)
		}
		if got := keyState(); got != types.KeyStateEnabled {
			t.Fatalf("KeyState = %s", got)
		}
	})
}

// TestCustomKeyStoreTokenRemoved: a connected store whose token is deleted from the HSM
// (softhsm2-util --delete-token, then its sessions closed) is FAILED with NETWORK_ERRORS, and
// its keys Unavailable.
func TestCustomKeyStoreTokenRemoved(t *testing.T) {
	e, cfg, _ := hsmEnv(t)
	id := e.createStore(t, "removed")
	e.connectStore(t, id)
	key := e.createKey(t, &awskms.CreateKeyInput{Origin: types.OriginTypeAwsCloudhsm, CustomKeyStoreId: aws.String(id)})
	if out, err := exec.Command("softhsm2-util", "--delete-token", "--token", cfg.Token).CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util --delete-token: %v: %s", err, out)
	}
	softhsmtest.Reset(t, cfg)
	_, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("x")})
	wantCode(t, err, "KMSInvalidStateException")
	s := e.storeState(t, id)
	if s.ConnectionState != types.ConnectionStateTypeFailed || s.ConnectionErrorCode != types.ConnectionErrorCodeTypeNetworkErrors {
		t.Fatalf("state = %s, code = %s; want FAILED, NETWORK_ERRORS", s.ConnectionState, s.ConnectionErrorCode)
	}
	d, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: aws.String(key)})
	if err != nil || d.KeyMetadata.KeyState != types.KeyStateUnavailable {
		t.Fatalf("DescribeKey = %v, %v; want Unavailable", d, err)
	}
}
