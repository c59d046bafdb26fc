package trailrec

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/fuzzseed"

	"github.com/coffer/coffer/internal/trail"
)

// TestRoundTrip: a trail with its selectors and delivery state decodes to what was encoded.
func TestRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	want := trail.Trail{Account: "111122223333", Name: "main", HomeRegion: "us-east-1", S3BucketName: "logs", Created: t0,
		AdvancedEventSelectors:  []trail.AdvancedEventSelector{{Name: "s", FieldSelectors: []trail.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}}}}},
		HasCustomEventSelectors: true, Status: trail.Status{IsLogging: true, StartLoggingTime: t0},
		Delivery: trail.Delivery{Cursor: "c", PeriodStart: t0, Previous: &trail.DigestLink{S3Object: "d", Signature: "ab"}}}
	rec, err := Encode(&want)
	if err != nil {
		t.Fatal(err)
	}
	if rec[0] != V1 {
		t.Fatalf("version byte %d, want %d", rec[0], V1)
	}
	if got, err := Decode(rec); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, want)
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
		{"no version byte", []byte(`{"Name":"x"}`)},
		{"truncated", []byte("\x01{\"Name\":")},
		{"wrong type", []byte("\x01[]")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.rec); !errors.Is(err, trail.ErrDamaged) {
				t.Fatalf("Decode(%q) = %v, want ErrDamaged", tc.rec, err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	fuzzseed.Require(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		// Any bytes: an error, or a record that re-encodes stably.
		tr, err := Decode(b)
		if err != nil {
			if !errors.Is(err, trail.ErrDamaged) {
				t.Fatalf("Decode error %v is not ErrDamaged", err)
			}
			return
		}
		again, err := Encode(&tr)
		if err != nil {
			t.Fatal(err)
		}
		tr2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if e2, _ := Encode(&tr2); !bytes.Equal(e2, again) {
			t.Fatal("encoding is not stable")
		}
	})
}

// TestNodeDeliveries: the delivery states of nodes sharing the store round-trip; a record of
// one node's trail has no trace of them, so records written before they existed read the
// same and those written now read the same to an older reader.
func TestNodeDeliveries(t *testing.T) {
	t0 := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	shared := trail.Trail{Account: "111122223333", Name: "main", HomeRegion: "us-east-1", S3BucketName: "logs", Created: t0,
		Status: trail.Status{StartLoggingTime: t0, StopLoggingTime: t0.Add(time.Hour)},
		Deliveries: map[string]trail.NodeDelivery{
			"0a1b2c3d4e5f6a7b": {Delivery: trail.Delivery{Cursor: "c1", PeriodStart: t0, LastDigestEnd: t0.Add(time.Minute)}, From: t0},
			"1a1b2c3d4e5f6a7b": {Delivery: trail.Delivery{Cursor: "c2", PeriodStart: t0, Closing: true}, From: t0, Until: t0.Add(time.Hour)},
		}}
	rec, err := Encode(&shared)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Decode(rec); err != nil || !reflect.DeepEqual(got, shared) {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, shared)
	}

	one := shared
	one.Deliveries = nil
	rec, err = Encode(&one)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(rec, []byte("Deliveries")) {
		t.Fatalf("one node's record names Deliveries: %s", rec[1:])
	}
	old := []byte("\x01" + `{"Account":"111122223333","Name":"main","Delivery":{"Cursor":"c","PeriodStart":"2026-11-05T12:00:00Z","LastDigestEnd":"0001-01-01T00:00:00Z"}}`)
	got, err := Decode(old)
	if err != nil || got.Delivery.Cursor != "c" || got.Deliveries != nil {
		t.Fatalf("Decode(record of before) = %+v, %v", got, err)
	}
}
