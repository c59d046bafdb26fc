package kms

import (
	"context"
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// RecordFormatMAC is the record format whose records carry a MAC (SPEC.md §5). Records written
// before it have RecordFormat 0, which the specification calls format 1.
const RecordFormatMAC = 2

// recordLabel starts every encoded record; the byte after it names the kind of record.
const recordLabel = "coffer kms record v2"

const (
	recordKey   = 'K'
	recordAlias = 'A'
	recordGrant = 'G'
	recordStore = 'S' // a custom key store
)

// recordEncoder builds the canonical encoding of a record (SPEC.md §5.1): every field in a
// fixed order, length-prefixed, so that two different records never encode alike.
type recordEncoder struct{ b []byte }

func newRecordEncoder(kind byte, format int) *recordEncoder {
	e := &recordEncoder{b: make([]byte, 0, 512)}
	e.b = append(e.b, recordLabel...)
	e.b = append(e.b, 0, kind)
	e.uint32(uint32(format))
	return e
}

func (e *recordEncoder) uint32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *recordEncoder) int(v int)       { e.b = binary.BigEndian.AppendUint64(e.b, uint64(int64(v))) }

func (e *recordEncoder) bytes(v []byte) {
	e.uint32(uint32(len(v)))
	e.b = append(e.b, v...)
}

func (e *recordEncoder) string(v string) {
	e.uint32(uint32(len(v)))
	e.b = append(e.b, v...)
}

func (e *recordEncoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// time encodes the instant only: seconds since the Unix epoch and nanoseconds.
func (e *recordEncoder) time(t time.Time) {
	e.b = binary.BigEndian.AppendUint64(e.b, uint64(t.Unix()))
	e.uint32(uint32(t.Nanosecond()))
}

// strings encodes a list; nil and empty encode alike (a stored record cannot tell them apart).
func (e *recordEncoder) strings(v []string) {
	e.uint32(uint32(len(v)))
	for _, s := range v {
		e.string(s)
	}
}

// stringMap encodes a map sorted by key; nil and empty encode alike.
func (e *recordEncoder) stringMap(m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.uint32(uint32(len(keys)))
	for _, k := range keys {
		e.string(k)
		e.string(m[k])
	}
}

// encodeKey is the canonical encoding of every field of a key record but its MAC.
func encodeKey(k *Key) []byte {
	e := newRecordEncoder(recordKey, k.RecordFormat)
	e.string(k.ID)
	e.string(k.Account)
	e.bool(k.Owned)
	e.string(k.Manager)
	e.string(k.Description)
	e.string(k.Spec)
	e.string(k.Usage)
	e.string(k.Origin)
	e.string(string(k.State))
	e.time(k.Created)
	e.time(k.DeletionDate)
	e.int(k.PendingWindowDays)
	e.time(k.ValidTo)
	e.string(k.ExpirationModel)
	e.bytes(k.ImportFingerprint)
	e.bool(k.Rotation.Enabled)
	e.int(k.Rotation.PeriodDays)
	e.time(k.Rotation.Next)
	e.int(k.Rotation.OnDemand)
	e.uint32(uint32(len(k.Versions)))
	for _, v := range k.Versions {
		e.uint32(v.Number)
		e.string(v.MaterialID)
		e.time(v.Created)
		e.string(v.Type)
		e.bytes(v.Sealed)
	}
	e.bool(k.Import != nil)
	if p := k.Import; p != nil {
		e.bytes(p.TokenID)
		e.string(p.Algorithm)
		e.string(p.WrappingSpec)
		e.bytes(p.Sealed)
		e.time(p.ValidTo)
	}
	e.string(k.Policy)
	e.uint32(uint32(len(k.Tags)))
	for _, t := range k.Tags {
		e.string(t.TagKey)
		e.string(t.TagValue)
	}
	// Appended only when set, so the records of other keys keep their encoding and MACs. With
	// shred slots the key store id is written even when empty: its length (0 for a key with
	// slots, never for a key store's key) keeps the two endings apart.
	shredded := len(slotsOf(k)) > 0
	if k.CustomKeyStoreID != "" || shredded {
		e.string(k.CustomKeyStoreID)
	}
	if shredded {
		e.uint32(uint32(len(k.Versions)))
		for _, v := range k.Versions {
			e.uint32(v.Slot)
		}
		var importSlot uint32
		if k.Import != nil {
			importSlot = k.Import.Slot
		}
		e.uint32(importSlot)
	}
	return e.b
}

// encodeAlias is the canonical encoding of every field of an alias record but its MAC.
func encodeAlias(a *Alias) []byte {
	e := newRecordEncoder(recordAlias, a.RecordFormat)
	e.string(a.Account)
	e.string(a.Name)
	e.string(a.KeyID)
	e.time(a.Created)
	e.time(a.Updated)
	return e.b
}

// encodeGrant is the canonical encoding of every field of a grant record but its MAC.
func encodeGrant(g *Grant) []byte {
	e := newRecordEncoder(recordGrant, g.RecordFormat)
	e.string(g.KeyID)
	e.string(g.GrantID)
	e.string(g.Token)
	e.string(g.Name)
	e.string(g.GranteePrincipal)
	e.string(g.RetiringPrincipal)
	e.string(g.IssuingAccount)
	e.strings(g.Operations)
	e.bool(g.Constraints != nil)
	if c := g.Constraints; c != nil {
		e.stringMap(c.EncryptionContextEquals)
		e.stringMap(c.EncryptionContextSubset)
	}
	e.time(g.Created)
	return e.b
}

// recordMACs sets and checks the MACs of records with a root key.
type recordMACs struct{ root RootKey }

// mac returns the MAC of an encoded record.
func (r recordMACs) mac(ctx context.Context, encoded []byte) ([]byte, error) {
	m, err := r.root.RecordMAC(ctx, encoded)
	if err != nil {
		return nil, fmt.Errorf("kms: record mac: %w", err)
	}
	return m, nil
}

// verify checks a record's format and MAC against its encoding, in constant time.
func (r recordMACs) verify(ctx context.Context, what string, format int, tag, encoded []byte) error {
	if format != RecordFormatMAC {
		return fmt.Errorf("kms: %s: %w: record format %d, want %d", what, ErrStoreDamaged, format, RecordFormatMAC)
	}
	want, err := r.mac(ctx, encoded)
	if err != nil {
		return err
	}
	if !hmac.Equal(tag, want) {
		return fmt.Errorf("kms: %s: %w: its MAC does not verify", what, ErrStoreDamaged)
	}
	return nil
}

// seal sets a record's format to RecordFormatMAC and its MAC over encode's result, which
// must encode the record with that format.
func (r recordMACs) seal(ctx context.Context, format *int, tag *[]byte, encode func() []byte) (err error) {
	*format = RecordFormatMAC
	*tag, err = r.mac(ctx, encode())
	return err
}

func (r recordMACs) sealKey(ctx context.Context, k *Key) error {
	return r.seal(ctx, &k.RecordFormat, &k.MAC, func() []byte { return encodeKey(k) })
}

func (r recordMACs) verifyKey(ctx context.Context, k *Key) error {
	return r.verify(ctx, "key "+k.ID, k.RecordFormat, k.MAC, encodeKey(k))
}

func (r recordMACs) sealAlias(ctx context.Context, a *Alias) error {
	return r.seal(ctx, &a.RecordFormat, &a.MAC, func() []byte { return encodeAlias(a) })
}

func (r recordMACs) verifyAlias(ctx context.Context, a *Alias) error {
	return r.verify(ctx, "alias "+a.Name, a.RecordFormat, a.MAC, encodeAlias(a))
}

func (r recordMACs) sealGrant(ctx context.Context, g *Grant) error {
	return r.seal(ctx, &g.RecordFormat, &g.MAC, func() []byte { return encodeGrant(g) })
}

func (r recordMACs) verifyGrant(ctx context.Context, g *Grant) error {
	return r.verify(ctx, "grant "+g.GrantID+" of key "+g.KeyID, g.RecordFormat, g.MAC, encodeGrant(g))
}
