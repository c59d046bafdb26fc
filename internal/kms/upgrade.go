package kms

import (
	"context"
	"errors"
	"fmt"
)

// materialAAD is the AAD of version n of a key's sealed material (or of its import wrapping
// key, with id suffixed "/import" and n 0) as the record's format sealed it (SPEC.md §2, §5.4).
func materialAAD(k *Key, id string, n uint32) []byte {
	if k.RecordFormat < RecordFormatMAC {
		return sealAADFormat1(id, n)
	}
	return sealAAD(id, n)
}

// opensUnderEitherLabel reports whether the root key opens sealed material of a key version
// under either AAD label: proof of the root key whatever the format of the record holding it.
func (s *Service) opensUnderEitherLabel(ctx context.Context, sealed []byte, id string, n uint32) bool {
	for _, aad := range [][]byte{sealAAD(id, n), sealAADFormat1(id, n)} {
		raw, err := s.root.Open(ctx, sealed, aad)
		clear(raw)
		if err == nil {
			return true
		}
	}
	return false
}

// errDowngraded stops an upgrade of a store that was upgraded before (SPEC.md §5.4).
var errDowngraded = errors.New("kms: records without a MAC in a store whose records were MACed before")

// UpgradeRecords brings the records of a store written before record MACs (format 1) to the
// MACed format, in one Store transaction, so that they keep working (SPEC.md §5.4). The server
// calls it at every start, after CheckRoot has proven the root key; a store with nothing to
// upgrade is left as it is. Key material of an upgraded key is sealed again under the
// current AAD label, which proves afterwards that its store was upgraded: when any record
// is already MACed, or any format-1 key holds material sealed under the current label, the
// format-1 records are ones whose MAC was stripped on disk, and nothing is upgraded; they
// stay unusable (ErrStoreDamaged) and the error says so. With a Shredder it then seals the
// material of every MACed key that has no shred slot again under a new one (SPEC.md §8.5).
func (s *Service) UpgradeRecords(ctx context.Context) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var n int
	err := s.raw.UpgradeRecords(ctx, RecordFormatMAC, func(r *Records) (bool, error) {
		var err error
		n, err = s.upgrade(ctx, r)
		return n > 0, err
	})
	switch {
	case errors.Is(err, errDowngraded):
		s.log.ErrorContext(ctx, "kms: records without a MAC in a store whose records were MACed before: they stay unusable; restore meta.db from a backup or run `coffer admin check`", "err", err)
		return s.upgradeShred(ctx)
	case err != nil:
		return fmt.Errorf("kms: upgrading records: %w", err)
	case n > 0:
		s.log.InfoContext(ctx, "kms: records upgraded to the MACed format", "records", n)
	}
	return s.upgradeShred(ctx)
}

// upgrade MACs the format-1 records of r in place and returns how many it upgraded.
func (s *Service) upgrade(ctx context.Context, r *Records) (int, error) {
	macs := recordMACs{root: s.root}
	var legacy []*Key
	macedBefore := 0
	for _, k := range r.Keys {
		if k.RecordFormat < RecordFormatMAC {
			legacy = append(legacy, k)
		} else {
			macedBefore++
		}
	}
	var aliases, grants []int
	for i := range r.Aliases {
		if r.Aliases[i].RecordFormat < RecordFormatMAC {
			aliases = append(aliases, i)
		} else {
			macedBefore++
		}
	}
	for i := range r.Grants {
		if r.Grants[i].RecordFormat < RecordFormatMAC {
			grants = append(grants, i)
		} else {
			macedBefore++
		}
	}
	if len(legacy)+len(aliases)+len(grants) == 0 {
		return 0, nil
	}
	if macedBefore > 0 {
		return 0, fmt.Errorf("%w: %d MACed, %d not", errDowngraded, macedBefore, len(legacy)+len(aliases)+len(grants))
	}
	for _, k := range legacy {
		if err := s.resealFormat1(ctx, k); err != nil {
			return 0, err
		}
		if err := macs.sealKey(ctx, k); err != nil {
			return 0, err
		}
	}
	for _, i := range aliases {
		if err := macs.sealAlias(ctx, &r.Aliases[i]); err != nil {
			return 0, err
		}
	}
	for _, i := range grants {
		if err := macs.sealGrant(ctx, &r.Grants[i]); err != nil {
			return 0, err
		}
	}
	return len(legacy) + len(aliases) + len(grants), nil
}

// resealFormat1 seals every material of a format-1 key again under the current AAD label.
// Material that opens only under the current label means the store was upgraded before
// (errDowngraded); material that opens under neither is damaged and stays as it is, as
// unusable as it was.
func (s *Service) resealFormat1(ctx context.Context, k *Key) error {
	reseal := func(sealed []byte, id string, n uint32) ([]byte, error) {
		raw, err := s.root.Open(ctx, sealed, sealAADFormat1(id, n))
		if err != nil {
			later, err := s.root.Open(ctx, sealed, sealAAD(id, n))
			clear(later)
			if err == nil {
				return nil, fmt.Errorf("%w: key %s holds material sealed for a MACed record", errDowngraded, k.ID)
			}
			s.log.ErrorContext(ctx, "kms: upgrading records: key material does not open; it stays unusable", "key", k.ID, "version", n)
			return sealed, nil
		}
		defer clear(raw) // best effort
		return s.root.Seal(ctx, raw, sealAAD(id, n))
	}
	for i := range k.Versions {
		v := &k.Versions[i]
		if len(v.Sealed) == 0 {
			continue
		}
		sealed, err := reseal(v.Sealed, k.ID, v.Number)
		if err != nil {
			return err
		}
		v.Sealed = sealed
	}
	if p := k.Import; p != nil && len(p.Sealed) > 0 {
		sealed, err := reseal(p.Sealed, k.ID+"/import", 0)
		if err != nil {
			return err
		}
		p.Sealed = sealed
	}
	return nil
}

// StoreFormatShred is the store format whose key material is sealed under shred keys
// (SPEC.md §8.5); UpgradeRecords brings a store to it when the service has a Shredder.
const StoreFormatShred = 3

// upgradeShred seals every material of a MACed key that has no shred slot again under a
// new slot (SPEC.md §8.5), in one Store transaction. Slots are written before that
// transaction commits: a crash leaves slots no record names, which SweepShredSlots frees.
func (s *Service) upgradeShred(ctx context.Context) error {
	if s.shred == nil {
		return nil
	}
	macs := recordMACs{root: s.root}
	var n int
	err := s.raw.UpgradeRecords(ctx, StoreFormatShred, func(r *Records) (bool, error) {
		n = 0
		for _, k := range r.Keys {
			if macs.verifyKey(ctx, k) != nil {
				continue // damaged, or format 1 left by a refused upgrade: stays as it is
			}
			changed, err := s.resealShredded(ctx, k)
			if err != nil {
				return false, err
			}
			if changed {
				if err := macs.sealKey(ctx, k); err != nil {
					return false, err
				}
				n++
			}
		}
		return n > 0, nil
	})
	if err != nil {
		return fmt.Errorf("kms: sealing key material under shred keys: %w", err)
	}
	if n > 0 {
		s.log.WarnContext(ctx, "kms: key material sealed under shred keys; copies sealed before stay in meta.db's free pages until `coffer admin compact --data DIR` is run on the stopped server", "keys", n)
	}
	return nil
}

// resealShredded seals each material of k without a shred slot under a new one. Material
// that does not open stays as it is, as unusable as before.
func (s *Service) resealShredded(ctx context.Context, k *Key) (bool, error) {
	changed := false
	reseal := func(sealed []byte, slot *uint32, id string, n uint32) ([]byte, error) {
		if len(sealed) == 0 || *slot != 0 {
			return sealed, nil
		}
		raw, err := s.root.Open(ctx, sealed, sealAAD(id, n))
		if err != nil {
			s.log.ErrorContext(ctx, "kms: sealing under shred keys: key material does not open; it stays unusable", "key", k.ID, "version", n)
			return sealed, nil
		}
		defer clear(raw) // best effort
		out, newSlot, err := s.sealMaterial(ctx, raw, id, n)
		if err != nil {
			return nil, err
		}
		*slot, changed = newSlot, true
		return out, nil
	}
	for i := range k.Versions {
		v := &k.Versions[i]
		sealed, err := reseal(v.Sealed, &v.Slot, k.ID, v.Number)
		if err != nil {
			return false, err
		}
		v.Sealed = sealed
	}
	if p := k.Import; p != nil {
		sealed, err := reseal(p.Sealed, &p.Slot, k.ID+"/import", 0)
		if err != nil {
			return false, err
		}
		p.Sealed = sealed
	}
	return changed, nil
}
