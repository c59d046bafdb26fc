package pgkms_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/pgkms"
	"github.com/coffer/coffer/internal/pgtest"
)

// barrierStore lets both nodes read the (absent) canary before either stores one: the
// interleaving of two nodes starting together on a fresh database. Later reads pass.
type barrierStore struct {
	*pgkms.Store
	read  *sync.WaitGroup
	first *sync.Once
}

func (b barrierStore) Canary(ctx context.Context) ([]byte, error) {
	c, err := b.Store.Canary(ctx)
	b.first.Do(func() {
		b.read.Done()
		b.read.Wait()
	})
	return c, err
}

// TestRootCanaryRaceTwoRootKeys: two nodes starting together on one fresh database with
// different root keys (each made its own --kms-root-key-file) must not both pass CheckRoot.
func TestRootCanaryRaceTwoRootKeys(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var read sync.WaitGroup
	read.Add(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		f := filepath.Join(t.TempDir(), "root.key")
		if err := os.WriteFile(f, bytes.Repeat([]byte{byte(i + 1)}, 32), 0o600); err != nil {
			t.Fatal(err)
		}
		root, err := kms.OpenFileRootKey(f)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := kms.New(kms.Config{Store: barrierStore{newNode(t, url), &read, new(sync.Once)}, Root: root, Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs[i] = svc.CheckRoot(context.Background()) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("two nodes with different root keys on one database: CheckRoot gave %v and %v; want exactly one refused", errs[0], errs[1])
	}
}
