package kms

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"
)

// FileShredder is a Shredder whose slots are fixed-size records of one file (SPEC.md §8.2),
// overwritten in place when destroyed. One process owns the file (the server).
type FileShredder struct {
	root RootKey
	mu   sync.Mutex // guards f's slots, n and free
	f    *os.File
	n    uint32   // slots in the file, numbered 1..n
	free []uint32 // slots of the file that hold no key
}

var _ Shredder = (*FileShredder)(nil)

const (
	shredFileVersion = 0x01
	shredFileHeadLen = 16
	shredSlotLen     = 128
	slotFree         = 0x00
	slotUsed         = 0x01
	// shredSlotAADLabel binds a slot's sealed key to its slot number.
	shredSlotAADLabel = "coffer kms shred slot v1"
)

var shredFileMagic = [4]byte{'c', 'k', 's', 'l'}

// OpenFileShredder opens the slot file at path, creating it (mode 0600) when absent. The
// shred keys in it are sealed by root.
func OpenFileShredder(path string, root RootKey) (*FileShredder, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = createShredFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("kms: shred slots %s: %w", path, err)
	}
	sh, err := loadShredFile(f, root)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("kms: shred slots %s: %w", path, err)
	}
	return sh, nil
}

func createShredFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	head := make([]byte, shredFileHeadLen)
	copy(head, shredFileMagic[:])
	head[4] = shredFileVersion
	binary.BigEndian.PutUint32(head[8:12], shredSlotLen)
	if _, err = f.Write(head); err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := syncParent(path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// loadShredFile checks the header and rebuilds the free list. A file cut short in a slot
// keeps its whole slots; the slots beyond are missing (their keys fail, others work).
func loadShredFile(f *os.File, root RootKey) (*FileShredder, error) {
	head := make([]byte, shredFileHeadLen)
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	if [4]byte(head[0:4]) != shredFileMagic || head[4] != shredFileVersion || binary.BigEndian.Uint32(head[8:12]) != shredSlotLen {
		return nil, errors.New("not a shred slot file of version 1")
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	sh := &FileShredder{root: root, f: f, n: uint32((st.Size() - shredFileHeadLen) / shredSlotLen)}
	buf := make([]byte, shredSlotLen)
	for slot := uint32(1); slot <= sh.n; slot++ {
		if _, err := f.ReadAt(buf, slotOffset(slot)); err != nil {
			return nil, err
		}
		if buf[0] != slotUsed {
			sh.free = append(sh.free, slot)
		}
	}
	slices.Reverse(sh.free) // lowest slot reused first
	return sh, nil
}

func slotOffset(slot uint32) int64 {
	return shredFileHeadLen + int64(slot-1)*shredSlotLen
}

func shredSlotAAD(slot uint32) []byte {
	return binary.BigEndian.AppendUint32(append([]byte(shredSlotAADLabel), 0), slot)
}

// Close closes the slot file.
func (sh *FileShredder) Close() error { return sh.f.Close() }

// New implements Shredder: the slot is written and fsynced before it returns, so before
// any record names it.
func (sh *FileShredder) New(ctx context.Context) (uint32, []byte, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	slot := sh.n + 1
	if len(sh.free) > 0 {
		slot = sh.free[len(sh.free)-1]
	}
	sealed, err := sh.root.Seal(ctx, key, shredSlotAAD(slot))
	if err != nil {
		return 0, nil, err
	}
	if len(sealed) > shredSlotLen-2 {
		return 0, nil, fmt.Errorf("kms: a sealed shred key of %d bytes does not fit a slot", len(sealed))
	}
	buf := make([]byte, shredSlotLen)
	_, _ = rand.Read(buf)
	buf[0], buf[1] = slotUsed, byte(len(sealed))
	copy(buf[2:], sealed)
	if err := sh.writeSlot(slot, buf); err != nil {
		return 0, nil, err
	}
	if slot > sh.n {
		sh.n = slot
	} else {
		sh.free = sh.free[:len(sh.free)-1]
	}
	return slot, key, nil
}

func (sh *FileShredder) writeSlot(slot uint32, buf []byte) error {
	if _, err := sh.f.WriteAt(buf, slotOffset(slot)); err != nil {
		return err
	}
	return sh.f.Sync()
}

// Key implements Shredder.
func (sh *FileShredder) Key(ctx context.Context, slot uint32) ([]byte, error) {
	buf := make([]byte, shredSlotLen)
	sh.mu.Lock()
	n := sh.n
	var err error
	if slot >= 1 && slot <= n {
		_, err = sh.f.ReadAt(buf, slotOffset(slot))
	}
	sh.mu.Unlock()
	switch {
	case slot < 1 || slot > n:
		return nil, fmt.Errorf("%w: slot %d is beyond the file's %d slots", ErrSealedCorrupt, slot, n)
	case err != nil && !errors.Is(err, io.EOF):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%w: slot %d is cut short", ErrSealedCorrupt, slot)
	case buf[0] == slotFree:
		return nil, ErrShredded
	case buf[0] != slotUsed || int(buf[1]) > shredSlotLen-2:
		return nil, fmt.Errorf("%w: slot %d is damaged", ErrSealedCorrupt, slot)
	}
	key, err := sh.root.Open(ctx, buf[2:2+int(buf[1])], shredSlotAAD(slot))
	if err != nil {
		return nil, fmt.Errorf("slot %d: %w", slot, err)
	}
	return key, nil
}

// Destroy implements Shredder: the slot is overwritten with random bytes and fsynced. In
// place on the file's blocks, which a copy-on-write filesystem or an SSD may keep (SPEC.md §8.4).
func (sh *FileShredder) Destroy(_ context.Context, slot uint32) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if slot < 1 || slot > sh.n {
		return nil // never written, or cut off the file: nothing to overwrite
	}
	buf := make([]byte, shredSlotLen)
	_, _ = rand.Read(buf)
	buf[0] = slotFree
	if err := sh.writeSlot(slot, buf); err != nil {
		return err
	}
	if !slices.Contains(sh.free, slot) {
		sh.free = append(sh.free, slot)
	}
	return nil
}

// Used implements Shredder.
func (sh *FileShredder) Used(context.Context) ([]uint32, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	free := make(map[uint32]bool, len(sh.free))
	for _, slot := range sh.free {
		free[slot] = true
	}
	var used []uint32
	for slot := uint32(1); slot <= sh.n; slot++ {
		if !free[slot] {
			used = append(used, slot)
		}
	}
	return used, nil
}
