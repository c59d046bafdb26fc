package kms_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	bolt "go.etcd.io/bbolt"
)

func newSvc(t testing.TB, dir string, now func() time.Time) (*kms.Service, *bolt.DB) {
	t.Helper()
	return newSvcConfig(t, dir, kms.Config{Now: now})
}

// newSvcConfig opens a KMS on the bbolt store and root key file in dir, with c's settings
// besides those.
func newSvcConfig(t testing.TB, dir string, c kms.Config) (*kms.Service, *bolt.DB) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svcOnDB(t, db, dir, c), db
}

// svcOnDB opens a KMS, with an empty cache, on an open database and the root key file in dir,
// with c's settings besides those.
func svcOnDB(t testing.TB, db *bolt.DB, dir string, c kms.Config) *kms.Service {
	t.Helper()
	st, err := kmsbolt.New(db)
	if err != nil {
		t.Fatal(err)
	}
	root, err := kms.OpenFileRootKey(filepath.Join(dir, "kms", "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	c.Store, c.Root, c.Region = st, root, "us-east-1"
	s, err := kms.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	alice = kms.Caller{Account: "111111111111", ARN: "arn:aws:iam::111111111111:root"}
	bob   = kms.Caller{Account: "222222222222", ARN: "arn:aws:iam::222222222222:root"}
)

// Account isolation: bob must not reach alice's key by naming its ARN (no policy grants him).
func TestReviewCrossAccountByARN(t *testing.T) {
	ctx := context.Background()
	s, db := newSvc(t, t.TempDir(), nil)
	defer db.Close()
	m, err := s.CreateKey(ctx, alice, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := s.Encrypt(ctx, alice, kms.EncryptInput{KeyId: m.KeyId, Plaintext: []byte("alice secret")})
	if err != nil {
		t.Fatal(err)
	}
	arn := m.Arn
	t.Run("decrypt without KeyId (control)", func(t *testing.T) {
		_, err := s.Decrypt(ctx, bob, kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		if err == nil {
			t.Fatal("bob decrypted alice's blob")
		}
	})
	t.Run("decrypt with KeyId=alice ARN", func(t *testing.T) {
		out, err := s.Decrypt(ctx, bob, kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, KeyId: arn})
		if err == nil {
			t.Fatalf("bob decrypted alice's blob by naming her key ARN: %q", out.Plaintext)
		}
	})
	t.Run("describe", func(t *testing.T) {
		if _, err := s.DescribeKey(ctx, bob, arn); err == nil {
			t.Fatal("bob described alice's key")
		}
	})
	t.Run("get policy", func(t *testing.T) {
		if _, err := s.GetKeyPolicy(ctx, bob, arn, ""); err == nil {
			t.Fatal("bob read alice's key policy")
		}
	})
	t.Run("put policy", func(t *testing.T) {
		err := s.PutKeyPolicy(ctx, bob, arn, "", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"}]}`, false)
		if err == nil {
			t.Fatal("bob replaced alice's key policy")
		}
	})
	t.Run("disable", func(t *testing.T) {
		if err := s.DisableKey(ctx, bob, arn); err == nil {
			t.Fatal("bob disabled alice's key")
		}
	})
	t.Run("schedule deletion", func(t *testing.T) {
		if _, err := s.ScheduleKeyDeletion(ctx, bob, arn, 7); err == nil {
			t.Fatal("bob scheduled deletion of alice's key")
		}
	})
}

// ListRetirableGrants must only answer for principals of the caller's account.
func TestReviewListRetirableGrantsCrossAccount(t *testing.T) {
	ctx := context.Background()
	s, db := newSvc(t, t.TempDir(), nil)
	defer db.Close()
	m, err := s.CreateKey(ctx, alice, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.CreateGrant(ctx, alice, kms.CreateGrantInput{KeyId: m.KeyId, GranteePrincipal: "arn:aws:iam::111111111111:role/app",
		RetiringPrincipal: "arn:aws:iam::111111111111:role/ops", Operations: []string{"Decrypt"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := s.ListRetirableGrants(ctx, bob, "arn:aws:iam::111111111111:role/ops", kms.Page{})
	if err == nil && len(got) > 0 {
		t.Fatalf("bob listed alice's grant: %+v", got[0])
	}
}

// Any alias/aws/<x> name auto-creates an AWS managed key, for names no AWS service uses.
func TestReviewManagedAliasAnyName(t *testing.T) {
	ctx := context.Background()
	s, db := newSvc(t, t.TempDir(), nil)
	defer db.Close()
	for _, n := range []string{"alias/aws/zzz-not-a-service", "alias/aws/another-one"} {
		if md, err := s.DescribeKey(ctx, alice, n); err == nil {
			t.Errorf("DescribeKey(%s) created managed key %s", n, md.KeyId)
		}
	}
}

// A lost root key file is silently regenerated: every existing key becomes unusable.
func TestReviewRootKeyRegeneratedOverExistingKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, db := newSvc(t, dir, nil)
	m, err := s.CreateKey(ctx, alice, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := s.Encrypt(ctx, alice, kms.EncryptInput{KeyId: m.KeyId, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	os.Remove(filepath.Join(dir, "kms", "root.key")) // e.g. restored DIR without kms/, or wrong KMSRootKeyFile
	s2, db2 := newSvc(t, dir, nil)                   // a new root key file is generated
	defer db2.Close()
	// The start-up check must refuse it: every existing key would fail.
	if err := s2.CheckRoot(ctx); err == nil || !strings.Contains(err.Error(), "root key does not open the stored keys") {
		t.Fatalf("CheckRoot with a regenerated root key: %v", err)
	}
	if _, err := s2.Decrypt(ctx, alice, kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err == nil {
		t.Fatal("decrypt with the wrong root key succeeded")
	}
}

// Root key file with loose permissions is accepted silently.
func TestReviewRootKeyLoosePerms(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "root.key")
	if err := os.WriteFile(p, make([]byte, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := kms.OpenFileRootKey(p); err == nil {
		t.Fatal("world-readable root key accepted without complaint")
	}
}
