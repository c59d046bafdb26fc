package kms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/blob_vectors.json")

// blobVector is one entry of testdata/blob_vectors.json.
type blobVector struct {
	Name     string            `json:"name"`
	Material string            `json:"material"` // hex, 32 bytes
	KeyID    string            `json:"key_id"`
	Version  uint32            `json:"version"`
	Seed     string            `json:"seed"` // hex, 16 bytes
	Context  map[string]string `json:"context"`
	Plain    string            `json:"plaintext"` // hex; empty for negative vectors
	Blob     string            `json:"blob"`      // hex
	Valid    bool              `json:"valid"`
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// specBlob builds a blob straight from SPEC.md §1, without the package's code.
func specBlob(t testing.TB, material []byte, keyID string, version uint32, seed []byte, ctx map[string]string, plain []byte) []byte {
	u, ok := parseUUID(keyID)
	if !ok {
		t.Fatal("bad key id")
	}
	head := append([]byte("ckms\x01"), u[:]...)
	head = binary.BigEndian.AppendUint32(head, version)
	head = append(head, seed...)
	okm, err := hkdf.Key(sha256.New, material, nil, "coffer kms blob v1"+string(seed), 44)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	aad := binary.BigEndian.AppendUint32(append([]byte(nil), head...), uint32(len(keys)))
	for _, k := range keys {
		aad = binary.BigEndian.AppendUint32(aad, uint32(len(k)))
		aad = append(aad, k...)
		aad = binary.BigEndian.AppendUint32(aad, uint32(len(ctx[k])))
		aad = append(aad, ctx[k]...)
	}
	block, _ := aes.NewCipher(okm[:32])
	gcm, _ := cipher.NewGCM(block)
	return gcm.Seal(head, okm[32:44], plain, aad)
}

func makeVectors(t *testing.T) []blobVector {
	material := bytes.Repeat([]byte{0x42}, 32)
	seed := bytes.Repeat([]byte{0x07}, 16)
	id := "1234abcd-12ab-34cd-56ef-1234567890ab"
	good := func(name string, ctx map[string]string, plain string, version uint32) blobVector {
		b := specBlob(t, material, id, version, seed, ctx, []byte(plain))
		return blobVector{name, hex.EncodeToString(material), id, version, hex.EncodeToString(seed), ctx, hex.EncodeToString([]byte(plain)), hex.EncodeToString(b), true}
	}
	base := specBlob(t, material, id, 1, seed, map[string]string{"ab": "c"}, []byte("hello"))
	bad := func(name string, blob []byte, ctx map[string]string) blobVector {
		return blobVector{name, hex.EncodeToString(material), id, 1, hex.EncodeToString(seed), ctx, "", hex.EncodeToString(blob), false}
	}
	flip := func(i int) []byte { b := bytes.Clone(base); b[i] ^= 0x01; return b }
	reordered := append(append(bytes.Clone(base[:41]), base[len(base)-16:]...), base[41:len(base)-16]...)
	return []blobVector{
		good("no context", nil, "plaintext", 1),
		good("context ab=c", map[string]string{"ab": "c"}, "hello", 1),
		good("context a=bc", map[string]string{"a": "bc"}, "hello", 1),
		good("two pairs, version 7", map[string]string{"z": "1", "aws:s3:arn": "arn:aws:s3:::b/k"}, "data key bytes..", 7),
		bad("wrong context a=bc for ab=c", base, map[string]string{"a": "bc"}),
		bad("missing context", base, nil),
		bad("truncated header", base[:30], map[string]string{"ab": "c"}),
		bad("truncated tag", base[:len(base)-1], map[string]string{"ab": "c"}),
		bad("wrong magic", flip(0), map[string]string{"ab": "c"}),
		bad("unknown version", flip(4), map[string]string{"ab": "c"}),
		bad("key version flipped", flip(24), map[string]string{"ab": "c"}),
		bad("seed flipped", flip(30), map[string]string{"ab": "c"}),
		bad("ciphertext flipped", flip(42), map[string]string{"ab": "c"}),
		bad("tag flipped", flip(len(base)-1), map[string]string{"ab": "c"}),
		bad("tag moved before ciphertext", reordered, map[string]string{"ab": "c"}),
	}
}

func TestBlobVectors(t *testing.T) {
	path := filepath.Join("testdata", "blob_vectors.json")
	if *update {
		b, _ := json.MarshalIndent(makeVectors(t), "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vs []blobVector
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 10 {
		t.Fatalf("only %d vectors", len(vs))
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			blob := mustHex(t, v.Blob)
			ctx, err := canonicalContext(v.Context)
			if err != nil {
				t.Fatal(err)
			}
			h, sealed, err := parseBlob(blob)
			var pt []byte
			if err == nil {
				pt, err = openBlob(mustHex(t, v.Material), h, sealed, ctx)
			}
			if !v.Valid {
				if err != errBadBlob {
					t.Fatalf("invalid vector accepted (err %v)", err)
				}
				return
			}
			if err != nil || !bytes.Equal(pt, mustHex(t, v.Plain)) {
				t.Fatalf("open: %v", err)
			}
			if formatUUID(h.KeyID) != v.KeyID || h.Version != v.Version {
				t.Fatalf("header names %s v%d", formatUUID(h.KeyID), h.Version)
			}
			var seed [16]byte
			copy(seed[:], mustHex(t, v.Seed))
			again, err := sealBlob(mustHex(t, v.Material), blobHeader{KeyID: h.KeyID, Version: v.Version, Seed: seed}, ctx, pt)
			if err != nil || !bytes.Equal(again, blob) {
				t.Fatal("sealBlob does not reproduce the vector")
			}
		})
	}
}

func TestCanonicalContext(t *testing.T) {
	enc := func(m map[string]string) string {
		b, err := canonicalContext(m)
		if err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(b)
	}
	tests := []struct {
		name string
		a, b map[string]string
		same bool
	}{
		{"boundary shift", map[string]string{"ab": "c"}, map[string]string{"a": "bc"}, false},
		{"nil and empty", nil, map[string]string{}, true},
		{"order free", map[string]string{"x": "1", "y": "2"}, map[string]string{"y": "2", "x": "1"}, true},
		{"case sensitive", map[string]string{"k": "v"}, map[string]string{"K": "v"}, false},
		{"empty value vs absent", map[string]string{"k": ""}, nil, false},
		{"key and value swap", map[string]string{"k": "v"}, map[string]string{"v": "k"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if (enc(tc.a) == enc(tc.b)) != tc.same {
				t.Fatalf("%s vs %s", enc(tc.a), enc(tc.b))
			}
		})
	}
	if got := enc(map[string]string{"ab": "c"}); got != "00000001"+"00000002"+"6162"+"00000001"+"63" {
		t.Fatalf("encoding %s", got)
	}
	big := map[string]string{"k": string(make([]byte, maxContextSize))}
	if _, err := canonicalContext(big); err == nil {
		t.Fatal("oversized context accepted")
	}
}

func FuzzParseBlob(f *testing.F) {
	ents, err := os.ReadDir(filepath.Join("testdata", "fuzz", "FuzzParseBlob"))
	if err != nil || len(ents) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/FuzzParseBlob: %v", err)
	}
	material := bytes.Repeat([]byte{0x42}, 32)
	for _, v := range makeVectors(&testing.T{}) {
		b, _ := hex.DecodeString(v.Blob)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, sealed, err := parseBlob(b)
		if err != nil {
			return
		}
		if len(sealed) < 16 || h.Version == 0 || !bytes.Equal(h.marshal(), b[:blobHeaderLen]) {
			t.Fatal("parser accepted a malformed blob")
		}
		ctx, _ := canonicalContext(map[string]string{"ab": "c"})
		if pt, err := openBlob(material, h, sealed, ctx); err == nil {
			again, err := sealBlob(material, h, ctx, pt)
			if err != nil || !bytes.Equal(again, b) {
				t.Fatal("an opened blob does not re-seal to itself")
			}
		}
	})
}
