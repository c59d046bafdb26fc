package kmsrec

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/fuzzseed"

	"github.com/coffer/coffer/internal/kms"
)

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

// TestRoundTrip: every record type decodes to what was encoded, sealed bytes byte for byte;
// the stored form is the record's plain JSON, as kmsbolt kept it before this package.
func TestRoundTrip(t *testing.T) {
	k := &kms.Key{ID: "k1", Account: "111122223333", Policy: "p", Created: t0, RecordFormat: kms.RecordFormatMAC, MAC: []byte{1, 2},
		Versions: []kms.Version{{Number: 1, Sealed: []byte{0, 0xff}, Slot: 3, Created: t0}}}
	rec, err := Encode(k)
	if err != nil {
		t.Fatal(err)
	}
	if rec[0] != '{' {
		t.Fatalf("stored form starts %q, want the JSON object", rec[:1])
	}
	if got, err := DecodeKey("k1", rec); err != nil || !reflect.DeepEqual(got, k) {
		t.Fatalf("DecodeKey = %+v, %v", got, err)
	}
	a := kms.Alias{Account: "111122223333", Name: "alias/a", KeyID: "k1", RecordFormat: kms.RecordFormatMAC, MAC: []byte{3}}
	if got, err := DecodeAlias(a.Account, a.Name, encode(t, a)); err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("DecodeAlias = %+v, %v", got, err)
	}
	g := kms.Grant{KeyID: "k1", GrantID: "g1", Operations: []string{"Decrypt"}, RecordFormat: kms.RecordFormatMAC}
	if got, err := DecodeGrant(g.KeyID, g.GrantID, encode(t, g)); err != nil || !reflect.DeepEqual(got, g) {
		t.Fatalf("DecodeGrant = %+v, %v", got, err)
	}
	ks := kms.KeyStore{ID: "cks-1", Account: "111122223333", Name: "n", Created: t0}
	if got, err := DecodeKeyStore(ks.ID, encode(t, ks)); err != nil || !reflect.DeepEqual(got, ks) {
		t.Fatalf("DecodeKeyStore = %+v, %v", got, err)
	}
	u := kms.KeyUsage{Operation: "Encrypt", Time: t0, EventID: "e", RequestID: "r"}
	if got, ok := DecodeUsage(encode(t, u)); !ok || got != u {
		t.Fatalf("DecodeUsage = %+v, %v", got, ok)
	}
}

func encode[T kms.Alias | kms.Grant | kms.KeyStore | kms.KeyUsage](t *testing.T, v T) []byte {
	t.Helper()
	rec, err := Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestDecodeRejects: what is not the record its storage key names, or a MACed record not in
// its canonical form, is kms.ErrStoreDamaged; a record from before MACs is read leniently.
func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name    string
		decode  func() error
		damaged bool
	}{
		{"not JSON", func() error { _, err := DecodeKey("k1", []byte("{not json")); return err }, true},
		{"another key's record", func() error { _, err := DecodeKey("k1", []byte(`{"ID":"k2"}`)); return err }, true},
		{"MACed key re-cased", func() error {
			_, err := DecodeKey("k1", []byte(`{"ID":"k1","policy":"p","RecordFormat":2}`))
			return err
		}, true},
		{"format-1 key re-cased", func() error { _, err := DecodeKey("k1", []byte(`{"ID":"k1","policy":"p"}`)); return err }, false},
		{"alias of another account", func() error {
			_, err := DecodeAlias("111122223333", "alias/a", []byte(`{"Account":"444455556666","Name":"alias/a"}`))
			return err
		}, true},
		{"grant of another key", func() error {
			_, err := DecodeGrant("k1", "g1", []byte(`{"KeyID":"k2","GrantID":"g1"}`))
			return err
		}, true},
		{"custom key store renamed", func() error { _, err := DecodeKeyStore("cks-1", []byte(`{"ID":"cks-2"}`)); return err }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.decode()
			if tc.damaged != errors.Is(err, kms.ErrStoreDamaged) || !tc.damaged && err != nil {
				t.Fatalf("err = %v, damaged want %v", err, tc.damaged)
			}
		})
	}
	if _, ok := DecodeUsage([]byte("{")); ok {
		t.Fatal("a damaged usage read as one")
	}
}

// TestSettings: the remembered record format and the tracking start read back; bytes that
// are not a format are none.
func TestSettings(t *testing.T) {
	if f, ok := DecodeFormat(EncodeFormat(3)); !ok || f != 3 {
		t.Fatalf("format = %d, %v", f, ok)
	}
	if _, ok := DecodeFormat([]byte{1, 2, 3}); ok {
		t.Fatal("3 bytes read as a format")
	}
	got, err := DecodeTrackingStart(EncodeTrackingStart(t0.Add(1500 * time.Millisecond)))
	if err != nil || !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("tracking start = %v, %v", got, err)
	}
}

func FuzzDecodeKey(f *testing.F) {
	fuzzseed.Require(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		// Any bytes: ErrStoreDamaged, or a key that re-encodes stably.
		k, err := DecodeKey("k1", b)
		if err != nil {
			if !errors.Is(err, kms.ErrStoreDamaged) {
				t.Fatalf("DecodeKey error %v is not ErrStoreDamaged", err)
			}
			return
		}
		again, err := Encode(k)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := DecodeKey("k1", again)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if e2, _ := Encode(k2); !bytes.Equal(e2, again) {
			t.Fatal("encoding is not stable")
		}
		if k.RecordFormat >= kms.RecordFormatMAC && !bytes.Equal(again, b) {
			t.Fatal("a MACed record decoded from bytes other than its canonical form")
		}
	})
}
