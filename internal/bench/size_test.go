package bench

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "4096", want: 4096},
		{in: "17B", want: 17},
		{in: "4KiB", want: 4096},
		{in: "1MiB", want: 1 << 20},
		{in: "64MiB", want: 64 << 20},
		{in: "2GiB", want: 2 << 30},
		{in: "4KB", want: 4000},
		{in: "3MB", want: 3_000_000},
		{in: "1GB", want: 1_000_000_000},
		{in: "4kib", want: 4096},
		{in: " 8 MiB ", want: 8 << 20},
		{in: "", bad: true},
		{in: "KiB", bad: true},
		{in: "-1KiB", bad: true},
		{in: "1.5MiB", bad: true},
		{in: "4XB", bad: true},
		{in: "4 KiBs", bad: true},
		{in: "9999999999GiB", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("ParseSize(%q) = %d, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0B"}, {100, "100B"}, {4096, "4KiB"}, {4097, "4097B"}, {1 << 20, "1MiB"},
		{64 << 20, "64MiB"}, {1536 << 10, "1536KiB"}, {3 << 30, "3GiB"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := FormatSize(tc.n); got != tc.want {
				t.Errorf("FormatSize(%d) = %q, want %q", tc.n, got, tc.want)
			}
			if back, err := ParseSize(tc.want); err != nil || back != tc.n {
				t.Errorf("ParseSize(FormatSize(%d)) = %d, %v", tc.n, back, err)
			}
		})
	}
}

// FuzzParseSize checks that every size ParseSize accepts is non-negative and prints back
// to itself through FormatSize.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"4KiB", "1MiB", "3MB", "17", "", "KiB", "1e3B"} {
		f.Add(s)
	}
	requireCorpus(f, "FuzzParseSize")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d, negative", s, n)
		}
		back, err := ParseSize(FormatSize(n))
		if err != nil || back != n {
			t.Fatalf("ParseSize(%q) = %d, but FormatSize gives %q, which parses to %d, %v", s, n, FormatSize(n), back, err)
		}
	})
}

// requireCorpus fails the fuzz test when its checked-in seed corpus is missing, so that a
// moved or deleted testdata directory is noticed.
func requireCorpus(f *testing.F, name string) {
	f.Helper()
	entries, err := os.ReadDir(filepath.Join("testdata", "fuzz", name))
	if err != nil || len(entries) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/%s (%v)", name, err)
	}
}
