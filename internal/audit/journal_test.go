package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseJournal feeds arbitrary bytes to the journal parser: it never panics, and what it
// keeps re-encodes to exactly the prefix it says is intact.
func FuzzParseJournal(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "vectors", "journal.jnl"))
	if err != nil || len(seed) == 0 {
		f.Fatalf("the seed vector did not load: %v", err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)-1])
	f.Add(append(bytes.Clone(seed), make([]byte, 64)...))
	f.Add([]byte(journalMagic))
	f.Add([]byte("COF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		jr, err := parseJournal(data)
		if err != nil {
			return
		}
		if jr.valid+jr.torn != int64(len(data)) {
			t.Fatalf("valid %d + torn %d != %d", jr.valid, jr.torn, len(data))
		}
		if jr.valid == 0 {
			if len(jr.records) > 0 {
				t.Fatal("records kept from a segment without a header")
			}
			return
		}
		b := []byte(journalMagic)
		for _, r := range jr.records {
			b = appendFrame(b, r)
		}
		if !bytes.Equal(b, data[:jr.valid]) {
			t.Fatal("the records kept do not re-encode to the intact prefix")
		}
	})
}

func TestParseJournal(t *testing.T) {
	rec := []byte(`{"eventName":"Decrypt"}`)
	two := appendFrame(appendFrame([]byte(journalMagic), rec), rec)
	one := int64(len(journalMagic) + frameHeader + len(rec))
	cases := []struct {
		name    string
		data    []byte
		records int
		valid   int64
		err     bool
	}{
		{"two records", two, 2, int64(len(two)), false},
		{"zeros after them", append(bytes.Clone(two), 0, 0, 0, 0, 0, 0, 0, 0, 0), 2, int64(len(two)), false},
		{"second cut in its payload", two[:len(two)-1], 1, one, false},
		{"second cut in its header", two[:one+3], 1, one, false},
		{"second's CRC wrong", func() []byte { b := bytes.Clone(two); b[one+5] ^= 1; return b }(), 1, one, false},
		{"second's length past the end", func() []byte { b := bytes.Clone(two); b[one] = 0x7f; return b }(), 1, one, false},
		{"second longer than a record may be", func() []byte { b := bytes.Clone(two); b[one+1] = 0x20; return b }(), 1, one, false},
		{"header only", []byte(journalMagic), 0, int64(len(journalMagic)), false},
		{"cut in the header", []byte(journalMagic[:3]), 0, 0, false},
		{"empty", nil, 0, 0, false},
		{"zeros (preallocated, header never written)", make([]byte, 4096), 0, 0, false},
		{"another version", append([]byte("COFAJNL\x02"), two[8:]...), 0, 0, true},
		{"not a journal", []byte("{\"Records\":[]}"), 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			jr, err := parseJournal(tc.data)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if err == nil && (len(jr.records) != tc.records || jr.valid != tc.valid) {
				t.Errorf("%d records, %d valid bytes; want %d, %d", len(jr.records), jr.valid, tc.records, tc.valid)
			}
		})
	}
}
