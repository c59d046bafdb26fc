package pgkms

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/pgdb"
)

// Shredder is a kms.Shredder whose slots are rows of kms_shred_slots, shared by every node
// that opens the database: a slot holds the root key's seal of its shred key bound to the
// slot number, as a slot of the file does (internal/kms/SPEC.md §8.2), and Destroy deletes the
// row. PostgreSQL keeps a deleted row's bytes in its dead tuple until VACUUM, and in the WAL
// and any base backup or replica fed by it, so shredding here is weaker than the file's
// overwrite in place (SPEC.md §8.4).
type Shredder struct {
	db   *pgdb.Handle
	root kms.RootKey
}

var _ kms.Shredder = (*Shredder)(nil)

// NewShredder returns the Shredder in the database pool connects to, whose shred keys root
// seals, first bringing the KMS schema up to date. The pool stays the caller's.
func NewShredder(ctx context.Context, pool *pgxpool.Pool, root kms.RootKey) (*Shredder, error) {
	db, err := pgdb.NewHandle(ctx, pool, component, migrations, ErrClosed)
	if err != nil {
		return nil, fmt.Errorf("pgkms: %w", err)
	}
	return &Shredder{db: db, root: root}, nil
}

// Close marks the Shredder closed; later calls fail with ErrClosed. It does not close the pool.
func (sh *Shredder) Close() error {
	sh.db.Close()
	return nil
}

// New implements kms.Shredder. The slot is the one after the highest in use (a destroyed
// highest slot is taken again); nodes racing for a number find it taken (ON CONFLICT) and
// try the next. The row is committed before New returns, so before any record names it.
func (sh *Shredder) New(ctx context.Context) (uint32, []byte, error) {
	if err := sh.db.Check(ctx); err != nil {
		return 0, nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go ≥ 1.24)
	for {
		var last int64
		if err := sh.db.Pool.QueryRow(ctx, "SELECT coalesce(max(slot), 0) FROM kms_shred_slots").Scan(&last); err != nil {
			clear(key)
			return 0, nil, fmt.Errorf("pgkms: new shred slot: %w", err)
		}
		if last >= math.MaxUint32 {
			clear(key)
			return 0, nil, errors.New("pgkms: new shred slot: every slot number is taken")
		}
		slot := uint32(last + 1)
		sealed, err := sh.root.Seal(ctx, key, kms.ShredSlotAAD(slot))
		if err != nil {
			clear(key)
			return 0, nil, err
		}
		tag, err := sh.db.Pool.Exec(ctx, "INSERT INTO kms_shred_slots (slot, sealed) VALUES ($1, $2) ON CONFLICT DO NOTHING", int64(slot), sealed)
		if err != nil {
			clear(key)
			return 0, nil, fmt.Errorf("pgkms: new shred slot: %w", err)
		}
		if tag.RowsAffected() == 1 {
			return slot, key, nil
		}
	}
}

// Key implements kms.Shredder. A slot without a row was destroyed or never used.
func (sh *Shredder) Key(ctx context.Context, slot uint32) ([]byte, error) {
	if err := sh.db.Check(ctx); err != nil {
		return nil, err
	}
	var sealed []byte
	err := sh.db.Pool.QueryRow(ctx, "SELECT sealed FROM kms_shred_slots WHERE slot = $1", int64(slot)).Scan(&sealed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, kms.ErrShredded
	case err != nil:
		return nil, fmt.Errorf("pgkms: shred slot %d: %w", slot, err)
	}
	key, err := sh.root.Open(ctx, sealed, kms.ShredSlotAAD(slot))
	if err != nil {
		return nil, fmt.Errorf("slot %d: %w", slot, err)
	}
	return key, nil
}

// Destroy implements kms.Shredder: the row is deleted (see Shredder for what PostgreSQL keeps).
func (sh *Shredder) Destroy(ctx context.Context, slot uint32) error {
	if err := sh.db.Check(ctx); err != nil {
		return err
	}
	if _, err := sh.db.Pool.Exec(ctx, "DELETE FROM kms_shred_slots WHERE slot = $1", int64(slot)); err != nil {
		return fmt.Errorf("pgkms: destroy shred slot %d: %w", slot, err)
	}
	return nil
}

// Used implements kms.Shredder.
func (sh *Shredder) Used(ctx context.Context) ([]uint32, error) {
	if err := sh.db.Check(ctx); err != nil {
		return nil, err
	}
	rows, err := sh.db.Pool.Query(ctx, "SELECT slot FROM kms_shred_slots ORDER BY slot")
	if err != nil {
		return nil, fmt.Errorf("pgkms: shred slots in use: %w", err)
	}
	used, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (uint32, error) {
		var slot int64
		err := r.Scan(&slot)
		return uint32(slot), err
	})
	if err != nil {
		return nil, fmt.Errorf("pgkms: shred slots in use: %w", err)
	}
	return used, nil
}
