package sse

import (
	"fmt"
	"testing"
)

func TestSizeArithmetic(t *testing.T) {
	const P, C = PackageSize, PackageSize + TagSize
	tests := []struct {
		plain, cipher int64
	}{
		{0, HeaderSize + TagSize},
		{1, HeaderSize + 1 + TagSize},
		{P - 1, HeaderSize + C - 1},
		{P, HeaderSize + C + TagSize},
		{P + 1, HeaderSize + C + 1 + TagSize},
		{10 << 20, HeaderSize + 160*C + TagSize},
		{MaxPlaintextSize, HeaderSize + MaxPlaintextSize + TagSize<<32},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.plain), func(t *testing.T) {
			c, err := CiphertextSize(tt.plain)
			if err != nil || c != tt.cipher {
				t.Fatalf("CiphertextSize(%d) = %d, %v; want %d", tt.plain, c, err, tt.cipher)
			}
			n, err := PlaintextSize(tt.cipher)
			if err != nil || n != tt.plain {
				t.Fatalf("PlaintextSize(%d) = %d, %v; want %d", tt.cipher, n, err, tt.plain)
			}
		})
	}
	t.Run("bijection near package boundaries", func(t *testing.T) {
		valid := map[int64]bool{}
		for _, base := range []int64{0, P, 2 * P, 7 * P} {
			for d := int64(-40); d <= 40; d++ {
				if n := base + d; n >= 0 {
					c, err := CiphertextSize(n)
					if err != nil {
						t.Fatal(err)
					}
					valid[c] = true
					if back, err := PlaintextSize(c); err != nil || back != n {
						t.Fatalf("PlaintextSize(CiphertextSize(%d)) = %d, %v", n, back, err)
					}
				}
			}
		}
		// Every ciphertext size either maps back exactly or is rejected as ErrAuth.
		for c := int64(0); c < HeaderSize+3*C; c++ {
			n, err := PlaintextSize(c)
			if err != nil {
				if err != ErrAuth {
					t.Fatalf("PlaintextSize(%d) = %v, want ErrAuth", c, err)
				}
				continue
			}
			if back, _ := CiphertextSize(n); back != c {
				t.Fatalf("size %d maps to %d which maps back to %d", c, n, back)
			}
		}
	})
	for _, bad := range []int64{-1, MaxPlaintextSize + 1} {
		if _, err := CiphertextSize(bad); err != ErrTooLarge {
			t.Errorf("CiphertextSize(%d) = %v, want ErrTooLarge", bad, err)
		}
	}
	for _, bad := range []int64{-1, 0, HeaderSize + TagSize - 1, HeaderSize + C, HeaderSize + C + TagSize - 1, HeaderSize + C<<32 + TagSize} {
		if _, err := PlaintextSize(bad); err != ErrAuth {
			t.Errorf("PlaintextSize(%d) = %v, want ErrAuth", bad, err)
		}
	}
}

func TestSplitRange(t *testing.T) {
	sizes := []int64{10, 0, 5, 20}
	tests := []struct {
		name      string
		off, n    int64
		want      []Span
		wantError bool
	}{
		{"whole object", 0, 35, []Span{{0, 0, 10}, {2, 0, 5}, {3, 0, 20}}, false},
		{"inside first part", 2, 3, []Span{{0, 2, 3}}, false},
		{"ends at part boundary", 5, 5, []Span{{0, 5, 5}}, false},
		{"starts at part boundary skips empty part", 10, 2, []Span{{2, 0, 2}}, false},
		{"crosses two boundaries", 9, 8, []Span{{0, 9, 1}, {2, 0, 5}, {3, 0, 2}}, false},
		{"last byte", 34, 1, []Span{{3, 19, 1}}, false},
		{"empty range", 7, 0, nil, false},
		{"empty range at end", 35, 0, nil, false},
		{"past the end", 30, 6, nil, true},
		{"negative offset", -1, 2, nil, true},
		{"negative length", 1, -2, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitRange(sizes, tt.off, tt.n)
			if (err != nil) != tt.wantError {
				t.Fatalf("err = %v, want error %v", err, tt.wantError)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("spans = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("negative part size", func(t *testing.T) {
		if _, err := SplitRange([]int64{1, -1}, 0, 0); err != ErrTooLarge {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("impossible part ciphertext size", func(t *testing.T) {
		if _, _, err := MultipartPlaintextSize([]int64{100, 3}); err != ErrAuth {
			t.Fatalf("err = %v, want ErrAuth", err)
		}
	})
}
