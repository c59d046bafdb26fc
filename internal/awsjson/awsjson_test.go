package awsjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/sigv4"
)

func TestEpoch(t *testing.T) {
	at := time.Date(2026, 12, 2, 6, 30, 15, 250e6, time.UTC)
	b, err := json.Marshal(struct{ T *Epoch }{Time(at)})
	if err != nil || string(b) != `{"T":1796193015.25}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back struct{ T *Epoch }
	if err := json.Unmarshal(b, &back); err != nil || !time.Time(*back.T).Equal(at) {
		t.Fatalf("Unmarshal = %v, %v", back.T, err)
	}
	if Time(time.Time{}) != nil {
		t.Fatal("the zero time is not nil")
	}
	if err := json.Unmarshal([]byte(`{"T":"2026-12-02"}`), &back); !errors.Is(err, ErrBadTimestamp) {
		t.Fatalf("a string timestamp: %v", err)
	}
}

func TestSignedPayload(t *testing.T) {
	for _, tc := range []struct {
		hash string
		want bool
	}{
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true},
		{"UNSIGNED-PAYLOAD", false},
		{"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", false},
		{"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", false},
	} {
		if got := SignedPayload(tc.hash); got != tc.want {
			t.Errorf("SignedPayload(%q) = %v, want %v", tc.hash, got, tc.want)
		}
	}
}

func TestAuthError(t *testing.T) {
	for _, tc := range []struct {
		err error
		typ string
	}{
		{fmt.Errorf("x: %w", sigv4.ErrSignatureDoesNotMatch), "InvalidSignatureException"},
		{sigv4.ErrInvalidAccessKeyID, "UnrecognizedClientException"},
		{&sigv4.RegionError{}, "InvalidSignatureException"},
		{errors.New("other"), ""},
	} {
		typ, _, ok := AuthError(tc.err)
		if typ != tc.typ || ok != (tc.typ != "") {
			t.Errorf("AuthError(%v) = %q, %v; want %q", tc.err, typ, ok, tc.typ)
		}
	}
}
