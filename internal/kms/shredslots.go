package kms

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
)

// ShredSlot is the stored content of one slot in use: the root key's seal of its shred key,
// bound to the slot number (SPEC.md §8.2). It is what another Shredder keeps for the slot, so
// that slots move between Shredders (`coffer admin migrate`) without the root key.
type ShredSlot struct {
	Slot   uint32
	Sealed []byte
}

// ShredSlotAAD is the AAD the root key seals a slot's shred key under (SPEC.md §8.2): every
// Shredder seals with it, so a sealed key opens only in its own slot, whichever Shredder
// keeps it.
func ShredSlotAAD(slot uint32) []byte { return shredSlotAAD(slot) }

// ReadShredSlotFile returns the slots in use of the slot file at path, in slot order, as
// they are stored (sealed). A missing file holds no slots.
func ReadShredSlotFile(path string) ([]ShredSlot, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kms: shred slots %s: %w", path, err)
	}
	defer f.Close()
	sh, err := loadShredFile(f, nil)
	if err != nil {
		return nil, fmt.Errorf("kms: shred slots %s: %w", path, err)
	}
	var out []ShredSlot
	buf := make([]byte, shredSlotLen)
	for slot := uint32(1); slot <= sh.n; slot++ {
		if _, err := f.ReadAt(buf, slotOffset(slot)); err != nil {
			return nil, fmt.Errorf("kms: shred slots %s: %w", path, err)
		}
		switch {
		case buf[0] == slotFree:
			continue
		case buf[0] != slotUsed || int(buf[1]) > shredSlotLen-2:
			return nil, fmt.Errorf("kms: shred slots %s: %w: slot %d is damaged", path, ErrSealedCorrupt, slot)
		}
		out = append(out, ShredSlot{Slot: slot, Sealed: slices.Clone(buf[2 : 2+int(buf[1])])})
	}
	return out, nil
}

// WriteShredSlotFile creates the slot file at path (which must not exist; mode 0600) holding
// slots as they are given, the slots between them free, and fsyncs it and its directory.
func WriteShredSlotFile(path string, slots []ShredSlot) error {
	f, err := createShredFile(path)
	if err != nil {
		return fmt.Errorf("kms: shred slots %s: %w", path, err)
	}
	defer f.Close()
	var n uint32
	used := make(map[uint32][]byte, len(slots))
	for _, s := range slots {
		if s.Slot == 0 || len(s.Sealed) > shredSlotLen-2 {
			return fmt.Errorf("kms: shred slot %d of %d bytes does not fit a slot", s.Slot, len(s.Sealed))
		}
		used[s.Slot], n = s.Sealed, max(n, s.Slot)
	}
	buf := make([]byte, shredSlotLen)
	for slot := uint32(1); slot <= n; slot++ {
		_, _ = rand.Read(buf)
		buf[0] = slotFree
		if sealed, ok := used[slot]; ok {
			buf[0], buf[1] = slotUsed, byte(len(sealed))
			copy(buf[2:], sealed)
		}
		if _, err := f.WriteAt(buf, slotOffset(slot)); err != nil {
			return fmt.Errorf("kms: shred slots %s: %w", path, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("kms: shred slots %s: %w", path, err)
	}
	return nil
}
