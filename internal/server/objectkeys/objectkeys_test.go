package objectkeys_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	"github.com/coffer/coffer/internal/kms/kmstest"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/server/objectkeys"
	bolt "go.etcd.io/bbolt"
)

// TestServiceKeyRotation seals SSE-S3 object keys across automatic rotations of the service
// key (period 30 days): every key sealed before a rotation still opens, under its own context
// only.
func TestServiceKeyRotation(t *testing.T) {
	ctx := context.Background()
	clk := kmstest.NewClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	svc := newKMS(t, kms.Config{Now: clk.Now, OwnedRotationDays: 30})
	keys := objectkeys.New(svc, nil)
	type sealed struct {
		key  secret.Key
		blob []byte
		ec   map[string]string
	}
	var all []sealed
	for i := range 4 { // sealed under versions 1..4
		ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::b/object-" + string(rune('a'+i))}
		k := secret.Generate()
		blob, err := keys.SealServiceKey(ctx, k, ec)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, sealed{k, blob, ec})
		clk.Add(31 * 24 * time.Hour)
		if err := svc.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range all {
		t.Run(s.ec["aws:s3:arn"], func(t *testing.T) {
			got, err := keys.UnsealServiceKey(ctx, s.blob, s.ec)
			if err != nil || !got.Equal(s.key) {
				t.Fatalf("unseal after %d rotations: %v", len(all)-i, err)
			}
			other := all[(i+1)%len(all)].ec
			if _, err := keys.UnsealServiceKey(ctx, s.blob, other); err == nil {
				t.Fatal("sealed key opened for another object")
			}
		})
	}
	t.Run("versions differ", func(t *testing.T) {
		if string(all[0].blob[21:25]) == string(all[3].blob[21:25]) {
			t.Fatal("the service key did not rotate")
		}
	})
}

// newKMS returns a key service configured as cfg on a fresh bbolt store and root key in
// us-east-1.
func newKMS(t *testing.T, cfg kms.Config) *kms.Service {
	t.Helper()
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if cfg.Store, err = kmsbolt.New(db); err != nil {
		t.Fatal(err)
	}
	if cfg.Root, err = kms.OpenFileRootKey(filepath.Join(dir, "root.key")); err != nil {
		t.Fatal(err)
	}
	cfg.Region = "us-east-1"
	svc, err := kms.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
