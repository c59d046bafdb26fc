package kms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// Shredder keeps the shred keys of key material (SPEC.md §8): each material version is sealed
// under a random 32-byte shred key S inside the root-key seal, and S lives in a numbered slot
// apart from the store. Destroying the slot makes every copy of the material unopenable, even
// the copies a copy-on-write store (bbolt's free pages, PostgreSQL's dead tuples) keeps after
// the record that held it was changed, and even with the root key.
type Shredder interface {
	// New stores a fresh random shred key in a free slot, durably, and returns the slot
	// (> 0) and the key. The caller must clear the key after use.
	New(ctx context.Context) (slot uint32, key []byte, err error)
	// Key returns the shred key of a slot: ErrShredded if the slot was destroyed (or never
	// used), ErrSealedCorrupt if it does not authenticate or is missing.
	Key(ctx context.Context, slot uint32) ([]byte, error)
	// Destroy overwrites a slot so that its key is gone, durably, and frees it for reuse.
	Destroy(ctx context.Context, slot uint32) error
	// Used returns the slots that hold a key, for the start-up sweep of slots no record
	// names (a crash between a slot's creation and the record naming it leaks one).
	Used(ctx context.Context) ([]uint32, error)
}

// ErrShredded means the shred key of key material was destroyed: the material is gone.
var ErrShredded = errors.New("kms: the key material was destroyed (its shred slot is empty)")

// shredMagic starts the plaintext of shredded material under the root key (SPEC.md §8.1).
var shredMagic = [4]byte{'C', 'S', 'H', '1'}

const shredHeadLen = 4 + 4 + 12

// sealShredded seals material in two layers (SPEC.md §8.1): AES-256-GCM under the shred key
// of slot, then the root key, both bound to aad.
func sealShredded(ctx context.Context, root RootKey, slot uint32, shredKey, material, aad []byte) ([]byte, error) {
	aead, err := shredAEAD(shredKey)
	if err != nil {
		return nil, err
	}
	inner := make([]byte, shredHeadLen, shredHeadLen+len(material)+16)
	copy(inner, shredMagic[:])
	binary.BigEndian.PutUint32(inner[4:8], slot)
	_, _ = rand.Read(inner[8:20]) // crypto/rand.Read never fails (Go ≥ 1.24)
	inner = aead.Seal(inner, inner[8:20], material, aad)
	defer clear(inner) // best effort: it holds no plaintext, but nothing outside needs it
	return root.Seal(ctx, inner, aad)
}

// openShredded opens what sealShredded made for slot, asking keyOf for the shred key.
func openShredded(ctx context.Context, root RootKey, slot uint32, sealed, aad []byte, keyOf func(context.Context, uint32) ([]byte, error)) ([]byte, error) {
	inner, err := root.Open(ctx, sealed, aad)
	if err != nil {
		return nil, err
	}
	if len(inner) < shredHeadLen+16 || [4]byte(inner[0:4]) != shredMagic || binary.BigEndian.Uint32(inner[4:8]) != slot {
		return nil, fmt.Errorf("%w: not shredded material of slot %d", ErrSealedCorrupt, slot)
	}
	key, err := keyOf(ctx, slot)
	if err != nil {
		return nil, fmt.Errorf("shred slot %d: %w", slot, err)
	}
	defer clear(key) // best effort: the AES key schedule keeps its own copy until collected
	aead, err := shredAEAD(key)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, inner[8:20], inner[shredHeadLen:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: the inner layer of shred slot %d", ErrSealedCorrupt, slot)
	}
	return pt, nil
}

func shredAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: a shred key of %d bytes", ErrSealedCorrupt, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealMaterial seals material of (id, n) (id suffixed "/import" for an import wrapping key):
// under a new shred slot when the service has a Shredder, else with the root key alone
// (slot 0). The caller stores the slot with the sealed bytes.
func (s *Service) sealMaterial(ctx context.Context, material []byte, id string, n uint32) ([]byte, uint32, error) {
	aad := sealAAD(id, n)
	if s.shred == nil {
		sealed, err := s.root.Seal(ctx, material, aad)
		return sealed, 0, err
	}
	slot, key, err := s.shred.New(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer clear(key)
	sealed, err := sealShredded(ctx, s.root, slot, key, material, aad)
	if err != nil {
		s.shredSlots(ctx, slot)
		return nil, 0, err
	}
	return sealed, slot, nil
}

// openMaterial opens material sealed by sealMaterial (or, slot 0, by the root key alone).
func (s *Service) openMaterial(ctx context.Context, sealed []byte, slot uint32, id string, n uint32) ([]byte, error) {
	aad := sealAAD(id, n)
	if slot == 0 {
		return s.root.Open(ctx, sealed, aad)
	}
	if s.shred == nil {
		return nil, fmt.Errorf("kms: material in shred slot %d, and no shredder configured", slot)
	}
	return openShredded(ctx, s.root, slot, sealed, aad, s.shred.Key)
}

// slotsOf lists the shred slots a key's record names.
func slotsOf(k *Key) []uint32 {
	var out []uint32
	for _, v := range k.Versions {
		if v.Slot != 0 {
			out = append(out, v.Slot)
		}
	}
	if k.Import != nil && k.Import.Slot != 0 {
		out = append(out, k.Import.Slot)
	}
	return out
}

// shredSlots destroys slots (0, none, is skipped), returning the first failure after trying them all.
func (s *Service) shredSlots(ctx context.Context, slots ...uint32) error {
	if s.shred == nil {
		return nil
	}
	var first error
	for _, slot := range slots {
		if slot == 0 {
			continue // sealed by the root key alone
		}
		if err := s.shred.Destroy(ctx, slot); err != nil && first == nil {
			first = fmt.Errorf("kms: destroying shred slot %d: %w", slot, err)
		}
	}
	return first
}

// SweepShredSlots destroys the shred slots that no key record names: slots a crash left
// between their creation and the commit of the record naming them. The server calls it at
// start, before serving; a store with records it cannot read is not swept (their slots
// are unknown), and the next start tries again.
func (s *Service) SweepShredSlots(ctx context.Context) (int, error) {
	if s.shred == nil {
		return 0, nil
	}
	named := map[uint32]bool{}
	err := s.raw.ScanKeys(ctx, func(k *Key) bool {
		for _, slot := range slotsOf(k) {
			named[slot] = true
		}
		return true
	})
	if err != nil {
		return 0, fmt.Errorf("kms: shred slot sweep skipped, some key records cannot be read: %w", err)
	}
	used, err := s.shred.Used(ctx)
	if err != nil {
		return 0, err
	}
	var orphans []uint32
	for _, slot := range used {
		if !named[slot] {
			orphans = append(orphans, slot)
		}
		delete(named, slot)
	}
	if len(named) > 0 {
		// Destroyed before a crash let the record drop them, or the slot file was lost,
		// replaced or cut short: the keys naming them fail (KMSInternalException).
		s.log.ErrorContext(ctx, "kms: key records name shred slots that hold no key; their material is gone (was kms/shred.slots lost, replaced or restored apart from meta.db?)", "slots", len(named))
	}
	return len(orphans), s.shredSlots(ctx, orphans...)
}
