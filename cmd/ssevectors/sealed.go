package main

import (
	"encoding/hex"

	"github.com/coffer/coffer/internal/sse"
)

// sealed makes one sealed key per mode plus the multipart upload's, and tampered variants.
func (g *generator) sealed() error {
	type base struct {
		name, kek, objectKey string
		mode                 sse.Mode
		id                   identity
	}
	bases := []base{
		{"sealed-sse-s3", "master", "object", sse.ModeSSES3, single},
		{"sealed-sse-kms", "kms-data-key", "object", sse.ModeSSEKMS, single},
		{"sealed-sse-c", "customer", "object", sse.ModeSSEC, single},
		{"sealed-multipart", "master", "upload", sse.ModeSSES3, upload},
	}
	raw := map[string][]byte{}
	for _, b := range bases {
		s, err := sse.SealKeyWithRand(g.keys[b.kek], g.keys[b.objectKey], b.mode, toID(b.id), g.rng)
		if err != nil {
			return err
		}
		raw[b.name] = s.Bytes()
		g.add(b.name, byte(b.mode), b.kek, b.id, s.Bytes(), "ok", b.objectKey)
	}
	mod := func(name string, f func([]byte) []byte) []byte {
		return f(append([]byte(nil), raw[name]...))
	}
	flip := func(name string, off int) []byte {
		return mod(name, func(b []byte) []byte { b[off] ^= 0x04; return b })
	}
	set := func(name string, off int, v byte) []byte {
		return mod(name, func(b []byte) []byte { b[off] = v; return b })
	}
	s3, c := "sealed-sse-s3", "sealed-sse-c"
	other := single
	other.Key = "objects/other"
	for _, t := range []struct {
		name, kek string
		mode      sse.Mode
		id        identity
		b         []byte
		expect    string
	}{
		{"s3-flip-magic", "master", sse.ModeSSES3, single, flip(s3, 1), "auth"},
		{"s3-version-2", "master", sse.ModeSSES3, single, set(s3, 4, 2), "auth"},
		{"s3-mode-changed-to-kms", "master", sse.ModeSSEKMS, single, set(s3, 5, byte(sse.ModeSSEKMS)), "auth"},
		{"s3-unknown-mode", "master", sse.ModeSSES3, single, set(s3, 5, 9), "auth"},
		{"s3-reserved-set", "master", sse.ModeSSES3, single, set(s3, 7, 1), "auth"},
		{"s3-flip-salt", "master", sse.ModeSSES3, single, flip(s3, 20), "auth"},
		{"s3-check-not-zero", "master", sse.ModeSSES3, single, set(s3, 50, 1), "auth"},
		{"s3-flip-ciphertext", "master", sse.ModeSSES3, single, flip(s3, 80), "auth"},
		{"s3-flip-tag", "master", sse.ModeSSES3, single, flip(s3, 119), "auth"},
		{"s3-truncated", "master", sse.ModeSSES3, single, raw[s3][:119], "auth"},
		{"s3-extended", "master", sse.ModeSSES3, single, append(append([]byte(nil), raw[s3]...), 0), "auth"},
		{"s3-wrong-identity", "master", sse.ModeSSES3, other, raw[s3], "auth"},
		{"s3-wrong-mode", "master", sse.ModeSSEKMS, single, raw[s3], "auth"},
		{"s3-wrong-kek", "kms-data-key", sse.ModeSSES3, single, raw[s3], "auth"},
		{"multipart-as-single", "master", sse.ModeSSES3, single, raw["sealed-multipart"], "auth"},
		{"c-wrong-customer-key", "other-customer", sse.ModeSSEC, single, raw[c], "wrong-key"},
		{"c-flip-check", "customer", sse.ModeSSEC, single, flip(c, 60), "wrong-key"},
		{"c-flip-salt", "customer", sse.ModeSSEC, single, flip(c, 9), "wrong-key"},
		{"c-flip-ciphertext", "customer", sse.ModeSSEC, single, flip(c, 100), "auth"},
		{"c-wrong-identity", "customer", sse.ModeSSEC, other, raw[c], "auth"},
		{"c-mode-changed-to-s3", "customer", sse.ModeSSES3, single, set(c, 5, byte(sse.ModeSSES3)), "auth"},
	} {
		g.add(t.name, byte(t.mode), t.kek, t.id, t.b, t.expect, "")
	}
	return nil
}

func (g *generator) add(name string, mode byte, kek string, id identity, b []byte, expect, objectKey string) {
	g.m.Sealed = append(g.m.Sealed, sealedVector{Name: name, Mode: mode, KEK: kek, Identity: id,
		Sealed: hex.EncodeToString(b), Expect: expect, ObjectKey: objectKey})
}
