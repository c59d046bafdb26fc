package pgkms_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmstest"
	"github.com/coffer/coffer/internal/kms/pgkms"
	"github.com/coffer/coffer/internal/pgtest"
)

// newShredder opens a Shredder on the database at url with a pool of its own, its keys
// sealed by root.
func newShredder(t *testing.T, url string, root kms.RootKey) *pgkms.Shredder {
	t.Helper()
	return pgtest.OpenStore(t, url, func(ctx context.Context, pool *pgxpool.Pool) (*pgkms.Shredder, error) {
		return pgkms.NewShredder(ctx, pool, root)
	})
}

func testRootKey(t *testing.T) *kms.FileRootKey {
	t.Helper()
	root, err := kms.OpenFileRootKey(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestShredderSlots: slots give their key back on another node, give nothing once destroyed
// (ErrShredded), are listed while in use, and numbers race-free across two nodes.
func TestShredderSlots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, root := pgtest.NewDatabase(t), testRootKey(t)
	a, b := newShredder(t, url, root), newShredder(t, url, root)
	keys := map[uint32][]byte{}
	for i := range 6 {
		sh := a
		if i%2 == 1 {
			sh = b
		}
		slot, key, err := sh.New(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := keys[slot]; dup || slot == 0 || len(key) != 32 {
			t.Fatalf("new slot %d (key of %d bytes) given twice or zero", slot, len(key))
		}
		keys[slot] = key
	}
	for _, slot := range []uint32{2, 5} {
		if err := a.Destroy(ctx, slot); err != nil {
			t.Fatal(err)
		}
	}
	if used, err := b.Used(ctx); err != nil || !slices.Equal(used, []uint32{1, 3, 4, 6}) {
		t.Fatalf("slots in use: %v, %v; want [1 3 4 6]", used, err)
	}
	for slot, want := range keys {
		got, err := b.Key(ctx, slot)
		switch {
		case slot == 2 || slot == 5:
			if !errors.Is(err, kms.ErrShredded) || got != nil {
				t.Fatalf("destroyed slot %d: %x, %v", slot, got, err)
			}
		case err != nil || !bytes.Equal(got, want):
			t.Fatalf("slot %d on the other node: %v", slot, err)
		}
	}
	if _, err := a.Key(ctx, 99); !errors.Is(err, kms.ErrShredded) {
		t.Fatalf("never used slot: %v, want ErrShredded", err)
	}
	if err := a.Destroy(ctx, 99); err != nil {
		t.Fatalf("destroying a slot never used: %v", err)
	}
}

// TestShredderSlotBinding: a slot's sealed key opens in its own slot only, and not under
// another root key (ErrSealedCorrupt).
func TestShredderSlotBinding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, root := pgtest.NewDatabase(t), testRootKey(t)
	sh := newShredder(t, url, root)
	slot, _, err := sh.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pool := pgtest.OpenPool(t, url)
	if _, err := pool.Exec(ctx, "INSERT INTO kms_shred_slots (slot, sealed) SELECT 7, sealed FROM kms_shred_slots WHERE slot = $1", int64(slot)); err != nil {
		t.Fatal(err)
	}
	if _, err := sh.Key(ctx, 7); !errors.Is(err, kms.ErrSealedCorrupt) {
		t.Fatalf("a sealed key copied into another slot: %v, want ErrSealedCorrupt", err)
	}
	other := newShredder(t, url, testRootKey(t))
	if _, err := other.Key(ctx, slot); !errors.Is(err, kms.ErrSealedCorrupt) {
		t.Fatalf("under another root key: %v, want ErrSealedCorrupt", err)
	}
}

// TestShredderTakesFileSlots: slots of the file, copied as they are stored, give the same
// keys from PostgreSQL (what `coffer admin migrate` relies on), and back.
func TestShredderTakesFileSlots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	root := testRootKey(t)
	file, err := kms.OpenFileShredder(filepath.Join(dir, "shred.slots"), root)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[uint32][]byte{}
	for range 3 {
		slot, key, err := file.New(ctx)
		if err != nil {
			t.Fatal(err)
		}
		keys[slot] = key
	}
	if err := file.Destroy(ctx, 2); err != nil {
		t.Fatal(err)
	}
	file.Close()
	slots, err := kms.ReadShredSlotFile(filepath.Join(dir, "shred.slots"))
	if err != nil {
		t.Fatal(err)
	}
	url := pgtest.NewDatabase(t)
	sh := newShredder(t, url, root)
	pool := pgtest.OpenPool(t, url)
	for _, s := range slots {
		if _, err := pool.Exec(ctx, "INSERT INTO kms_shred_slots (slot, sealed) VALUES ($1, $2)", int64(s.Slot), s.Sealed); err != nil {
			t.Fatal(err)
		}
	}
	for _, slot := range []uint32{1, 3} {
		if got, err := sh.Key(ctx, slot); err != nil || !bytes.Equal(got, keys[slot]) {
			t.Fatalf("file slot %d from PostgreSQL: %v", slot, err)
		}
	}
	if _, err := sh.Key(ctx, 2); !errors.Is(err, kms.ErrShredded) {
		t.Fatalf("destroyed file slot 2 from PostgreSQL: %v", err)
	}

	back := filepath.Join(t.TempDir(), "shred.slots")
	if err := kms.WriteShredSlotFile(back, slots); err != nil {
		t.Fatal(err)
	}
	again, err := kms.OpenFileShredder(back, root)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if used, _ := again.Used(ctx); !slices.Equal(used, []uint32{1, 3}) {
		t.Fatalf("slots of the written file: %v, want [1 3]", used)
	}
	if got, err := again.Key(ctx, 3); err != nil || !bytes.Equal(got, keys[3]) {
		t.Fatalf("slot 3 of the written file: %v", err)
	}
}

// TestShredderClosed: a closed Shredder refuses every call.
func TestShredderClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sh := newShredder(t, pgtest.NewDatabase(t), testRootKey(t))
	sh.Close()
	if _, _, err := sh.New(ctx); !errors.Is(err, pgkms.ErrClosed) {
		t.Fatalf("New after Close: %v", err)
	}
	if _, err := sh.Key(ctx, 1); !errors.Is(err, pgkms.ErrClosed) {
		t.Fatalf("Key after Close: %v", err)
	}
	if err := sh.Destroy(ctx, 1); !errors.Is(err, pgkms.ErrClosed) {
		t.Fatalf("Destroy after Close: %v", err)
	}
	if _, err := sh.Used(ctx); !errors.Is(err, pgkms.ErrClosed) {
		t.Fatalf("Used after Close: %v", err)
	}
}

// TestShredderUnderService: the KMS on pgkms with a Shredder in the same database seals a new
// key's material under a slot, serves it from another node, and destroys the slot when the
// key's deletion runs, after which the start-up sweep finds nothing left to destroy.
func TestShredderUnderService(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, root := pgtest.NewDatabase(t), testRootKey(t)
	clock := kmstest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	service := func() (*kms.Service, *pgkms.Shredder) {
		sh := newShredder(t, url, root)
		svc, err := kms.New(kms.Config{Store: newNode(t, url), Root: root, Region: "us-east-1", Now: clock.Now, Shredder: sh})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.CheckRoot(ctx); err != nil {
			t.Fatal(err)
		}
		return svc, sh
	}
	a, sh := service()
	b, _ := service()
	caller := kms.Caller{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root"}
	key, err := a.CreateKey(ctx, caller, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	used, err := sh.Used(ctx)
	if err != nil || len(used) != 1 {
		t.Fatalf("slots in use after CreateKey: %v, %v; want one", used, err)
	}
	enc, err := a.Encrypt(ctx, caller, kms.EncryptInput{KeyId: key.KeyId, Plaintext: []byte("material under a slot")})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := b.Decrypt(ctx, caller, kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "material under a slot" {
		t.Fatalf("Decrypt on the other node: %q, %v", dec.Plaintext, err)
	}
	if _, err := a.ScheduleKeyDeletion(ctx, caller, key.KeyId, 7); err != nil {
		t.Fatal(err)
	}
	clock.Add(8 * 24 * time.Hour)
	if err := a.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if used, err := sh.Used(ctx); err != nil || len(used) != 0 {
		t.Fatalf("slots in use after the key's deletion: %v, %v; want none", used, err)
	}
	if n, err := b.SweepShredSlots(ctx); err != nil || n != 0 {
		t.Fatalf("sweep after the deletion: %d, %v", n, err)
	}
}
