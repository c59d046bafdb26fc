package secret

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestBytesNeverLeak(t *testing.T) {
	raw := []byte{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8}
	s := BytesFrom(raw)
	leaks := func(out string) bool {
		return strings.Contains(strings.ToLower(out), "a0a1a2") || strings.Contains(out, "\xa0\xa1") ||
			strings.Contains(out, "160 161") || strings.Contains(out, "0xa0") || strings.Contains(out, "oKGi")
	}
	type wrapper struct {
		Secret Bytes
		Ptr    *Bytes
	}
	var logBuf, textBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("msg", "key", s, "nested", wrapper{Secret: s, Ptr: &s})
	slog.New(slog.NewTextHandler(&textBuf, nil)).Info("msg", "key", s)
	j, err := json.Marshal(wrapper{Secret: s, Ptr: &s})
	if err != nil {
		t.Fatal(err)
	}
	x, err := xml.Marshal(wrapper{Secret: s})
	if err != nil {
		t.Fatal(err)
	}
	var g bytes.Buffer
	if err := gob.NewEncoder(&g).Encode(wrapper{Secret: s}); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", s), "%#v": fmt.Sprintf("%#v", s),
		"%s": fmt.Sprintf("%s", s), "%x": fmt.Sprintf("%x", s), "%X": fmt.Sprintf("%X", s),
		"%q": fmt.Sprintf("%q", s), "%d": fmt.Sprintf("%d", s), "pointer %v": fmt.Sprintf("%v", &s),
		"struct %+v": fmt.Sprintf("%+v", wrapper{Secret: s, Ptr: &s}),
		"struct %#v": fmt.Sprintf("%#v", wrapper{Secret: s}),
		"slog json":  logBuf.String(), "slog text": textBuf.String(),
		"json": string(j), "xml": string(x), "gob": g.String(),
		"slice %v": fmt.Sprintf("%v", []Bytes{s}),
	}
	for name, out := range cases {
		t.Run(name, func(t *testing.T) {
			if leaks(out) {
				t.Fatalf("secret bytes leaked: %q", out)
			}
			if !strings.Contains(out, Redacted) {
				t.Fatalf("output %q does not say %s", out, Redacted)
			}
		})
	}
}

func TestBytesAccessAndDestroy(t *testing.T) {
	raw := []byte("hmac material of any length")
	s := BytesFrom(raw)
	clear(raw)
	tests := []struct {
		name string
		ok   bool
	}{
		{"copies its input", bytes.Equal(s.RevealBytes(), []byte("hmac material of any length"))},
		{"length", s.Len() == 27},
		{"equal to same bytes", s.Equal(BytesFrom([]byte("hmac material of any length")))},
		{"not equal to other bytes", !s.Equal(BytesFrom([]byte("other")))},
		{"zero holds nothing", Bytes{}.IsZero() && Bytes{}.RevealBytes() == nil && Bytes{}.Len() == 0},
		{"zero equals zero only", Bytes{}.Equal(Bytes{}) && !s.Equal(Bytes{})},
		{"refuses json decoding", json.Unmarshal([]byte(`"REDACTED"`), new(Bytes)) != nil},
		{"refuses text decoding", new(Bytes).UnmarshalText([]byte("00")) != nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Fatal("failed")
			}
		})
	}
	t.Run("key of 32 bytes only", func(t *testing.T) {
		if _, err := s.Key(); err != ErrKeySize {
			t.Fatalf("Key() of 27 bytes: %v, want ErrKeySize", err)
		}
		k, err := BytesFrom(bytes.Repeat([]byte{9}, KeySize)).Key()
		if err != nil || !bytes.Equal(k.RevealBytes(), bytes.Repeat([]byte{9}, KeySize)) {
			t.Fatalf("Key() = %v", err)
		}
	})
	t.Run("destroy clears every copy", func(t *testing.T) {
		cp := s
		s.Destroy()
		if !bytes.Equal(cp.RevealBytes(), make([]byte, 27)) {
			t.Fatal("copy still holds secret bytes after Destroy")
		}
		Bytes{}.Destroy() // must not panic
	})
}
