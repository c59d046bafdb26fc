package metarec

import (
	"errors"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/meta"
)

// TestIntentRecords: write intents are stored byte for byte as before freed intents existed,
// so older binaries still read them; records of those binaries read as write intents; a freed
// intent is a version older binaries refuse; a kind that does not fit its version is refused.
func TestIntentRecords(t *testing.T) {
	created := time.Unix(1700000000, 123456789).UTC()
	write := meta.Intent{Blob: "p/ab/ab", Bucket: "b", Key: "k", UploadID: "u", Created: created}
	freed := write
	freed.Kind = meta.IntentFreed
	t.Run("write intent as before", func(t *testing.T) {
		rec, err := EncodeIntent(write)
		if err != nil {
			t.Fatal(err)
		}
		if want := "\x01" + `{"b":"b","k":"k","u":"u","c":1700000000123456789}`; string(rec) != want {
			t.Fatalf("EncodeIntent = %q, want %q", rec, want)
		}
	})
	t.Run("freed intent is version 2", func(t *testing.T) {
		rec, err := EncodeIntent(freed)
		if err != nil {
			t.Fatal(err)
		}
		if rec[0] != IntentV2 {
			t.Fatalf("freed intent record version %d, want %d", rec[0], IntentV2)
		}
	})
	for _, in := range []meta.Intent{write, freed} {
		t.Run("round trip "+in.Kind.String(), func(t *testing.T) {
			rec, err := EncodeIntent(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeIntent(in.Blob, rec)
			if err != nil || got != in {
				t.Fatalf("DecodeIntent = %+v, %v; want %+v", got, err, in)
			}
		})
	}
	if _, err := EncodeIntent(meta.Intent{Kind: 7}); err == nil {
		t.Error("EncodeIntent of an unknown kind succeeded")
	}
	tests := []struct {
		name string
		rec  string
		want meta.Intent // checked when wantErr is false
		bad  bool
	}{
		{"old write intent", "\x01" + `{"b":"b","k":"k","c":5}`, meta.Intent{Blob: "o/x", Bucket: "b", Key: "k", Created: time.Unix(0, 5).UTC()}, false},
		{"old part intent", "\x01" + `{"b":"b","k":"k","u":"up","c":5}`, meta.Intent{Blob: "o/x", Bucket: "b", Key: "k", UploadID: "up", Created: time.Unix(0, 5).UTC()}, false},
		{"freed", "\x02" + `{"b":"b","k":"k","c":5,"t":"freed"}`, meta.Intent{Blob: "o/x", Bucket: "b", Key: "k", Created: time.Unix(0, 5).UTC(), Kind: meta.IntentFreed}, false},
		{"version 1 with a kind", "\x01" + `{"b":"b","k":"k","c":5,"t":"freed"}`, meta.Intent{}, true},
		{"version 2 without a kind", "\x02" + `{"b":"b","k":"k","c":5}`, meta.Intent{}, true},
		{"version 2 of an unknown kind", "\x02" + `{"b":"b","k":"k","c":5,"t":"kept"}`, meta.Intent{}, true},
		{"unknown version", "\x03" + `{"b":"b","k":"k","c":5,"t":"freed"}`, meta.Intent{}, true},
		{"empty", "", meta.Intent{}, true},
		{"truncated", "\x02" + `{"b":"b"`, meta.Intent{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeIntent("o/x", []byte(tc.rec))
			if tc.bad {
				if !errors.Is(err, ErrBadRecord) {
					t.Fatalf("DecodeIntent = %+v, %v; want ErrBadRecord", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("DecodeIntent = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
