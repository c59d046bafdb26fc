package kms_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer/coffer/internal/kms"
)

var updateShredVectors = flag.Bool("update-shred-vectors", false, "rewrite testdata/shred_vectors.json")

// shredVectors is testdata/shred_vectors.json (SPEC.md §8.6); bytes are hex.
type shredVectors struct {
	RootKey, ShredKey, Material string
	KeyID                       string
	Version, Slot               uint32
	AAD                         string // SPEC.md §2's AAD of (KeyID, Version)
	InnerNonce, RootNonce       string
	Inner                       string // "CSH1" | slot | nonce | AES-256-GCM(S, nonce, material, AAD)
	Sealed                      string // what the record keeps: the root key's seal of Inner (SPEC.md §2)
	SlotNonce                   string
	SlotRecord                  string // the slot's 128 bytes in the slot file (SPEC.md §8.2)
	Negative                    []shredNegative
}

// shredNegative is a stored value that must not open as slot Slot of (KeyID, Version).
type shredNegative struct {
	Name   string
	Sealed string
	Slot   uint32
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gcm seals with AES-256-GCM under key and a given nonce, from the definition.
func gcm(t *testing.T, key, nonce, pt, aad []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return a.Seal(nil, nonce, pt, aad)
}

// rootSeal is SPEC.md §2's sealed form with a given nonce: "cksm" | 0x01 | nonce | GCM.
func rootSeal(t *testing.T, root, nonce, pt, aad []byte) []byte {
	return append(append([]byte("cksm\x01"), nonce...), gcm(t, root, nonce, pt, aad)...)
}

func seq(from byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = from + byte(i)
	}
	return b
}

// makeShredVectors computes the vectors from SPEC.md §8 with crypto/cipher alone.
func makeShredVectors(t *testing.T) shredVectors {
	v := shredVectors{KeyID: "1234abcd-12ab-34cd-56ef-1234567890ab", Version: 2, Slot: 7}
	root, s, material := seq(0x00, 32), seq(0x20, 32), seq(0x40, 32)
	innerNonce, rootNonce, slotNonce := seq(0x60, 12), seq(0x70, 12), seq(0x80, 12)
	aad := binary.BigEndian.AppendUint32([]byte("coffer kms sealed v2\x00"), uint32(len(v.KeyID)))
	aad = binary.BigEndian.AppendUint32(append(aad, v.KeyID...), v.Version)
	inner := binary.BigEndian.AppendUint32([]byte("CSH1"), v.Slot)
	inner = append(append(inner, innerNonce...), gcm(t, s, innerNonce, material, aad)...)
	sealed := rootSeal(t, root, rootNonce, inner, aad)
	slotAAD := binary.BigEndian.AppendUint32([]byte("coffer kms shred slot v1\x00"), v.Slot)
	sealedS := rootSeal(t, root, slotNonce, s, slotAAD)
	slotRecord := make([]byte, 128)
	slotRecord[0], slotRecord[1] = 0x01, byte(len(sealedS))
	copy(slotRecord[2:], sealedS)
	flipped := bytes.Clone(inner)
	flipped[len(flipped)-1] ^= 0x01
	otherSlot := bytes.Clone(inner)
	otherSlot[7] = 8
	noMagic := bytes.Clone(inner)
	noMagic[3] = '2'
	h := hex.EncodeToString
	v.RootKey, v.ShredKey, v.Material, v.AAD = h(root), h(s), h(material), h(aad)
	v.InnerNonce, v.RootNonce, v.SlotNonce = h(innerNonce), h(rootNonce), h(slotNonce)
	v.Inner, v.Sealed, v.SlotRecord = h(inner), h(sealed), h(slotRecord)
	v.Negative = []shredNegative{
		{"truncated", h(sealed[:len(sealed)-1]), v.Slot},
		{"outer layer flipped", h(append(bytes.Clone(sealed[:30]), append([]byte{sealed[30] ^ 0x01}, sealed[31:]...)...)), v.Slot},
		{"inner layer flipped, sealed again by the root key", h(rootSeal(t, root, rootNonce, flipped, aad)), v.Slot},
		{"opened as another slot", h(sealed), v.Slot + 1},
		{"naming another slot inside", h(rootSeal(t, root, rootNonce, otherSlot, aad)), v.Slot},
		{"without the CSH1 magic", h(rootSeal(t, root, rootNonce, noMagic, aad)), v.Slot},
		{"inner layer cut to its header", h(rootSeal(t, root, rootNonce, inner[:20], aad)), v.Slot},
	}
	return v
}

// TestShredVectors checks testdata/shred_vectors.json against SPEC.md §8 and the code: the
// stored value opens to the material through the code's own path, the slot record gives the
// shred key through the file Shredder, and every negative case fails without plaintext.
func TestShredVectors(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join("testdata", "shred_vectors.json")
	if *updateShredVectors {
		b, err := json.MarshalIndent(makeShredVectors(t), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v shredVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if want := makeShredVectors(t); !bytes.Equal(mustJSON(t, v), mustJSON(t, want)) {
		t.Fatal("the vectors are not what SPEC.md §8 computes")
	}
	if got := hex.EncodeToString(kms.SealAAD(v.KeyID, v.Version)); got != v.AAD {
		t.Fatalf("AAD %s, want %s", got, v.AAD)
	}

	// The code's path: a root key file, a slot file holding the vector's slot.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "root.key"), unhex(t, v.RootKey), 0o600); err != nil {
		t.Fatal(err)
	}
	root, err := kms.OpenFileRootKey(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	// Slots 1.. Slot-2 free, the vector's slot record both in its slot and in the one before.
	slots := append([]byte("cksl\x01\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00"), make([]byte, 128*int(v.Slot-2))...)
	slots = append(append(slots, unhex(t, v.SlotRecord)...), unhex(t, v.SlotRecord)...)
	if err := os.WriteFile(filepath.Join(dir, "shred.slots"), slots, 0o600); err != nil {
		t.Fatal(err)
	}
	sh, err := kms.OpenFileShredder(filepath.Join(dir, "shred.slots"), root)
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	if s, err := sh.Key(ctx, v.Slot); err != nil || hex.EncodeToString(s) != v.ShredKey {
		t.Fatalf("the slot record gives %x, %v; want the shred key", s, err)
	}
	aad := unhex(t, v.AAD)
	pt, err := kms.OpenShredded(ctx, root, v.Slot, unhex(t, v.Sealed), aad, sh.Key)
	if err != nil || hex.EncodeToString(pt) != v.Material {
		t.Fatalf("the stored value opens to %x, %v; want the material", pt, err)
	}
	// What the code seals opens the same way (its nonces are random, so compare by opening).
	mine, err := kms.SealShredded(ctx, root, v.Slot, unhex(t, v.ShredKey), unhex(t, v.Material), aad)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := kms.OpenShredded(ctx, root, v.Slot, mine, aad, sh.Key); err != nil || hex.EncodeToString(pt) != v.Material {
		t.Fatalf("the code's own seal opens to %x, %v", pt, err)
	}
	for _, n := range v.Negative {
		t.Run(n.Name, func(t *testing.T) {
			pt, err := kms.OpenShredded(ctx, root, n.Slot, unhex(t, n.Sealed), aad, sh.Key)
			if err == nil || pt != nil || !errors.Is(err, kms.ErrSealedCorrupt) {
				t.Fatalf("opens to %x, %v; want ErrSealedCorrupt", pt, err)
			}
		})
	}
	// A slot record copied into another slot is bound to its own number: it gives no key.
	if s, err := sh.Key(ctx, v.Slot-1); !errors.Is(err, kms.ErrSealedCorrupt) {
		t.Fatalf("the slot record in slot %d gives %x, %v; want ErrSealedCorrupt", v.Slot-1, s, err)
	}
	if _, err := sh.Key(ctx, 1); !errors.Is(err, kms.ErrShredded) {
		t.Fatalf("a free slot: %v, want ErrShredded", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
