package main

import (
	"encoding/hex"

	"github.com/coffer/coffer/internal/sse"
)

// tampered lists the changes to part-1 (three packages: two full, a 10-byte final one) and to the
// empty stream that must all fail with ErrAuth.
func (g *generator) tampered() {
	const (
		h  = sse.HeaderSize
		p1 = sse.PackageSize + sse.TagSize // ciphertext of a full package
	)
	base := g.ct["part-1"]
	c := int64(len(base))
	final := base[c-(10+sse.TagSize):]
	other := func(mod func(*identity)) *identity {
		id := upload
		id.PartNumber = 1
		mod(&id)
		return &id
	}
	t := []tamperVector{
		{Name: "flip-magic", Op: "flip", Offset: 0, Bit: 0},
		{Name: "unknown-version", Op: "flip", Offset: 4, Bit: 1},
		{Name: "flip-reserved", Op: "flip", Offset: 6, Bit: 7},
		{Name: "flip-salt", Op: "flip", Offset: 8 + 5, Bit: 2},
		{Name: "flip-package-0-body", Op: "flip", Offset: h + 17, Bit: 0},
		{Name: "flip-package-0-tag", Op: "flip", Offset: h + p1 - 1, Bit: 7},
		{Name: "flip-package-1-body", Op: "flip", Offset: h + p1 + 1000, Bit: 3},
		{Name: "flip-final-package", Op: "flip", Offset: c - 11, Bit: 4},
		{Name: "truncate-final-package", Op: "truncate", Size: c - int64(len(final))},
		{Name: "truncate-one-byte", Op: "truncate", Size: c - 1},
		{Name: "truncate-to-valid-length", Op: "truncate", Size: h + p1 + 100},
		{Name: "truncate-to-one-package", Op: "truncate", Size: h + p1},
		{Name: "truncate-to-header", Op: "truncate", Size: h},
		{Name: "truncate-to-nothing", Op: "truncate", Size: 0},
		{Name: "remove-middle-package", Op: "remove", A: h + p1, Length: p1},
		{Name: "append-byte", Op: "append", Data: "00"},
		{Name: "append-tag-length", Op: "append", Data: hex.EncodeToString(make([]byte, sse.TagSize))},
		{Name: "append-copy-of-final", Op: "append", Data: hex.EncodeToString(final)},
		{Name: "swap-packages-0-1", Op: "swap", A: h, B: h + p1, Length: p1},
		{Name: "duplicate-package-0", Op: "copy", A: h, B: h + p1, Length: p1},
		{Name: "wrong-bucket", Op: "identity", Identity: other(func(id *identity) { id.Bucket = "vectors2" })},
		{Name: "wrong-object-name", Op: "identity", Identity: other(func(id *identity) { id.Key = "objects/multipart2" })},
		{Name: "wrong-upload-id", Op: "identity", Identity: other(func(id *identity) { id.UploadID = "upload-2" })},
		{Name: "wrong-part-number", Op: "identity", Identity: other(func(id *identity) { id.PartNumber = 2 })},
		{Name: "as-single-object", Op: "identity", Identity: other(func(id *identity) { id.UploadID, id.PartNumber = "", 0 })},
		{Name: "wrong-object-key", Op: "key", ObjectKey: "other-object"},
	}
	for i := range t {
		t[i].Base = "part-1"
	}
	t = append(t,
		tamperVector{Name: "empty-flip-tag", Base: "single-0", Op: "flip", Offset: h + 15, Bit: 0},
		tamperVector{Name: "empty-truncate-tag", Base: "single-0", Op: "truncate", Size: h},
		tamperVector{Name: "empty-append-byte", Base: "single-0", Op: "append", Data: "ff"},
		tamperVector{Name: "part-2-as-part-3", Base: "part-2", Op: "identity", Identity: &identity{Bucket: upload.Bucket, Key: upload.Key, UploadID: upload.UploadID, PartNumber: 3}},
		tamperVector{Name: "single-wrong-key", Base: "single-1", Op: "key", ObjectKey: "upload"},
	)
	g.m.Tampered = t
}
