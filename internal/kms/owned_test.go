package kms_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmstest"
)

func newOwnedSvc(t *testing.T, days int, clock *kmstest.Clock) *kms.Service {
	t.Helper()
	s, db := newSvcConfig(t, t.TempDir(), kms.Config{Now: clock.Now, OwnedRotationDays: days})
	t.Cleanup(func() { db.Close() })
	return s
}

// An owned key rotates on its configured period, and blobs sealed before a rotation still open.
func TestOwnedKeyRotationKeepsOldBlobs(t *testing.T) {
	ctx := context.Background()
	clock := kmstest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newOwnedSvc(t, 7, clock)
	id, err := s.OwnedKey(ctx, "coffer/sse-s3")
	if err != nil {
		t.Fatal(err)
	}
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::b/k"}
	secret := bytes.Repeat([]byte{0x5a}, 32)
	before, err := s.EncryptOwned(ctx, id, secret, ec)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(6 * 24 * time.Hour)
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	notYet, err := s.EncryptOwned(ctx, id, secret, ec)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * 24 * time.Hour)
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := s.EncryptOwned(ctx, id, secret, ec)
	if err != nil {
		t.Fatal(err)
	}
	// Bytes 21..25 of a blob hold its key version (SPEC.md §1).
	version := func(b []byte) []byte { return b[21:25] }
	if !bytes.Equal(version(before), version(notYet)) {
		t.Fatal("key rotated before its period was over")
	}
	if bytes.Equal(version(before), version(after)) {
		t.Fatal("key did not rotate after its period")
	}
	for name, blob := range map[string][]byte{"before rotation": before, "after rotation": after} {
		t.Run(name, func(t *testing.T) {
			got, err := s.DecryptOwned(ctx, blob, ec)
			if err != nil || !bytes.Equal(got, secret) {
				t.Fatalf("DecryptOwned = %x, %v", got, err)
			}
			if _, err := s.DecryptOwned(ctx, blob, map[string]string{"aws:s3:arn": "arn:aws:s3:::b/other"}); err == nil {
				t.Fatal("blob opened under another encryption context")
			}
		})
	}
}

func TestEncryptOwnedRefusals(t *testing.T) {
	ctx := context.Background()
	clock := kmstest.NewClock(time.Now())
	s := newOwnedSvc(t, 0, clock)
	id, err := s.OwnedKey(ctx, "coffer/sse-s3")
	if err != nil {
		t.Fatal(err)
	}
	customer, err := s.CreateKey(ctx, alice, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	userBlob, err := s.Encrypt(ctx, alice, kms.EncryptInput{KeyId: customer.KeyId, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		run  func() error
	}{
		{"customer key is not owned", func() error { _, err := s.EncryptOwned(ctx, customer.KeyId, []byte("x"), nil); return err }},
		{"empty plaintext", func() error { _, err := s.EncryptOwned(ctx, id, nil, nil); return err }},
		{"customer blob is not opened as owned", func() error { _, err := s.DecryptOwned(ctx, userBlob.CiphertextBlob, nil); return err }},
		{"owned blob is not opened by an account", func() error {
			b, err := s.EncryptOwned(ctx, id, []byte("x"), nil)
			if err != nil {
				return nil
			}
			_, err = s.Decrypt(ctx, alice, kms.DecryptInput{CiphertextBlob: b})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); err == nil {
				t.Fatal("succeeded")
			}
		})
	}
}
