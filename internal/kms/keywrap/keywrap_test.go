package keywrap

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// requireCorpus fails the fuzz test when its checked-in seed corpus is missing or empty.
func requireCorpus(f *testing.F, name string) {
	f.Helper()
	ents, err := os.ReadDir(filepath.Join("testdata", "fuzz", name))
	if err != nil || len(ents) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/%s: %v", name, err)
	}
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC5649Vectors checks the two examples of RFC 5649 §6.
func TestRFC5649Vectors(t *testing.T) {
	kek := "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8"
	tests := []struct {
		name, key, wrapped string
	}{
		{"20 octets", "c37b7e6492584340bed12207808941155068f738", "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
		{"7 octets", "466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Wrap(unhex(t, kek), unhex(t, tc.key))
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != tc.wrapped {
				t.Fatalf("Wrap = %x, want %s", got, tc.wrapped)
			}
			back, err := Unwrap(unhex(t, kek), unhex(t, tc.wrapped))
			if err != nil || !bytes.Equal(back, unhex(t, tc.key)) {
				t.Fatalf("Unwrap = %x, %v", back, err)
			}
		})
	}
}

func TestUnwrapRejects(t *testing.T) {
	kek := unhex(t, "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
	good := unhex(t, "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a")
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"short", good[:8]},
		{"not multiple of 8", good[:30]},
		{"truncated", good[:24]},
		{"flip first", flip(0)},
		{"flip last", flip(len(good) - 1)},
		{"wrong kek", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, in := kek, tc.in
			if tc.name == "wrong kek" {
				k, in = bytes.Repeat([]byte{1}, 24), good
			}
			if _, err := Unwrap(k, in); err != ErrUnwrap {
				t.Fatalf("Unwrap = %v, want ErrUnwrap", err)
			}
		})
	}
}

func TestRoundTripLengths(t *testing.T) {
	kek := bytes.Repeat([]byte{7}, 32)
	for n := 1; n <= 70; n++ {
		p := bytes.Repeat([]byte{byte(n)}, n)
		w, err := Wrap(kek, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(w) != (n+7)/8*8+8 {
			t.Fatalf("len %d: wrapped %d bytes", n, len(w))
		}
		back, err := Unwrap(kek, w)
		if err != nil || !bytes.Equal(back, p) {
			t.Fatalf("len %d: %v", n, err)
		}
	}
}

func FuzzUnwrap(f *testing.F) {
	f.Add(unhex(f, "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"))
	f.Add(unhex(f, "afbeb0f07dfbf5419200f2ccb50bb24f"))
	requireCorpus(f, "FuzzUnwrap")
	kek := unhex(f, "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := Unwrap(kek, in)
		if err != nil {
			return
		}
		w, err := Wrap(kek, p)
		if err != nil || !bytes.Equal(w, in) {
			t.Fatalf("unwrapped %x does not re-wrap to the input", in)
		}
	})
}
