package iamrec

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/fuzzseed"

	"github.com/coffer/coffer/internal/iam"
)

// TestRoundTrip: every record type decodes to what was encoded; a sealed secret comes back
// byte for byte, whatever its bytes.
func TestRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	key := iam.AccessKey{ID: "AKIA1", Account: "111122223333", UserName: "alice", Status: iam.StatusActive, Created: t0,
		SealedSecret: []byte{0, 1, 0x7f, 0x80, 0xfe, 0xff}}
	rec, err := Encode(key)
	if err != nil {
		t.Fatal(err)
	}
	if rec[0] != V1 {
		t.Fatalf("version byte %d, want %d", rec[0], V1)
	}
	var got iam.AccessKey
	if err := Decode(rec, &got); err != nil || !reflect.DeepEqual(got, key) {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, key)
	}
	ss := iam.Session{AccessKeyID: "ASIA1", TokenHash: []byte{1, 2}, SealedSecret: []byte{0xff}, Policies: []string{"p"}, Expires: t0}
	rec, err = Encode(ss)
	if err != nil {
		t.Fatal(err)
	}
	var gotSS iam.Session
	if err := Decode(rec, &gotSS); err != nil || !reflect.DeepEqual(gotSS, ss) {
		t.Fatalf("Decode session = %+v, %v", gotSS, err)
	}
}

// TestDecodeRejects: what is not a record of a known version is ErrDamaged.
func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"unknown version", []byte("\x02{}")},
		{"no version byte", []byte(`{"ID":"x"}`)},
		{"truncated", []byte("\x01{\"ID\":")},
		{"wrong type", []byte("\x01[]")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a iam.Account
			if err := Decode(tc.rec, &a); !errors.Is(err, iam.ErrDamaged) {
				t.Fatalf("Decode(%q) = %v, want ErrDamaged", tc.rec, err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	fuzzseed.Require(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		// Any bytes: an error, or a record that re-encodes stably.
		var k iam.AccessKey
		if err := Decode(b, &k); err != nil {
			if !errors.Is(err, iam.ErrDamaged) {
				t.Fatalf("Decode error %v is not ErrDamaged", err)
			}
			return
		}
		again, err := Encode(k)
		if err != nil {
			t.Fatal(err)
		}
		var k2 iam.AccessKey
		if err := Decode(again, &k2); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if e2, _ := Encode(k2); !bytes.Equal(e2, again) {
			t.Fatal("encoding is not stable")
		}
	})
}
