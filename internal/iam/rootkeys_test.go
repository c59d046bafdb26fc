package iam_test

import (
	"errors"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/secret"
)

// TestImportRootKey: a root key made outside the service is stored sealed and signs as the
// account root; importing it again with the same secret changes nothing, and an id stored
// with another secret or for another principal is refused.
func TestImportRootKey(t *testing.T) {
	f := newService(t, time.Hour)
	const id, sec = "AKOLDROOTKEY00000001", "old-root-secret-0123456789abcdefghijklm"
	if _, err := f.svc.CreateUser(bg, defaultAccount, "carol", "", nil); err != nil {
		t.Fatal(err)
	}
	userKey, err := f.svc.CreateAccessKey(bg, defaultAccount, "carol")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		account   string
		id, sec   string
		wantClass error // nil: imported (or already there)
	}{
		{"new key", defaultAccount, id, sec, nil},
		{"same key again", defaultAccount, id, sec, nil},
		{"same id, another secret", defaultAccount, id, "another-secret-0123456789abcdefghijklmn", iam.ErrEntityExists},
		{"same id, another account", "444455556666", id, sec, iam.ErrEntityExists},
		{"a user's key id", defaultAccount, userKey.ID, userKey.Secret, iam.ErrEntityExists},
		{"no secret", defaultAccount, "AKOLDROOTKEY00000002", "", iam.ErrValidation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s secret.Bytes
			if tc.sec != "" {
				s = secret.BytesFrom([]byte(tc.sec))
			}
			err := f.svc.ImportRootKey(bg, tc.account, tc.id, s)
			if tc.wantClass != nil {
				if !errors.Is(err, tc.wantClass) {
					t.Fatalf("ImportRootKey = %v, want %v", err, tc.wantClass)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := f.svc.Lookup(bg, tc.id, "")
			if err != nil || !c.Principal.Root || c.Principal.AccountID != defaultAccount || string(c.Secret.RevealBytes()) != tc.sec {
				t.Fatalf("Lookup = %+v, %v", c.Principal, err)
			}
			stored, err := f.store.GetAccessKey(bg, tc.id)
			if err != nil || stored.UserName != "" || string(stored.SealedSecret) == tc.sec {
				t.Fatalf("stored %+v, %v", stored, err)
			}
		})
	}
	keys, err := f.svc.ListAccessKeys(bg, defaultAccount, "")
	if err != nil || len(keys) != 1 || keys[0].ID != id {
		t.Fatalf("root keys = %+v, %v", keys, err)
	}
}

// TestReplacedRootKey: the in-memory root key of the configuration replaces a stored one,
// which is refused while the Service runs; a Service without the replacement accepts it.
func TestReplacedRootKey(t *testing.T) {
	f := newService(t, time.Hour)
	stored, err := f.svc.CreateAccessKey(bg, defaultAccount, "")
	if err != nil {
		t.Fatal(err)
	}
	replacing, err := iam.New(bg, iam.Config{Store: f.store, Sealer: f.sealer, Default: iam.Account{ID: defaultAccount},
		DefaultKey: "AKIAFROMENVIRONMENT1", DefaultSecret: "environment-secret", ReplacedKey: stored.ID})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		svc     *iam.Service
		key     string
		wantErr error
	}{
		{"replaced key refused", replacing, stored.ID, iam.ErrUnknownAccessKey},
		{"the environment's key", replacing, "AKIAFROMENVIRONMENT1", nil},
		{"the stored key without the replacement", f.svc, stored.ID, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.svc.Lookup(bg, tc.key, "")
			if !errors.Is(err, tc.wantErr) || (err == nil && !c.Principal.Root) {
				t.Fatalf("Lookup(%s) = %+v, %v; want %v", tc.key, c.Principal, err, tc.wantErr)
			}
		})
	}
}
