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

// fixed returns a key whose bytes are 0xa0..0xbf, easy to spot if they leak.
func fixed(t *testing.T) Key {
	t.Helper()
	raw := make([]byte, KeySize)
	for i := range raw {
		raw[i] = 0xa0 + byte(i)
	}
	k, err := FromBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyNeverLeaks(t *testing.T) {
	k := fixed(t)
	leaks := func(s string) bool {
		return strings.Contains(strings.ToLower(s), "a0a1a2") || strings.Contains(s, "\xa0\xa1") ||
			strings.Contains(s, "160 161") || strings.Contains(s, "0xa0")
	}
	type wrapper struct {
		Secret Key
		Ptr    *Key
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("msg", "key", k, "nested", wrapper{Secret: k, Ptr: &k})
	var textBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&textBuf, nil)).Info("msg", "key", k)
	j, err := json.Marshal(wrapper{Secret: k, Ptr: &k})
	if err != nil {
		t.Fatal(err)
	}
	x, err := xml.Marshal(wrapper{Secret: k})
	if err != nil {
		t.Fatal(err)
	}
	var g bytes.Buffer
	if err := gob.NewEncoder(&g).Encode(wrapper{Secret: k}); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"%v": fmt.Sprintf("%v", k), "%+v": fmt.Sprintf("%+v", k), "%#v": fmt.Sprintf("%#v", k),
		"%s": fmt.Sprintf("%s", k), "%x": fmt.Sprintf("%x", k), "%X": fmt.Sprintf("%X", k),
		"%q": fmt.Sprintf("%q", k), "%d": fmt.Sprintf("%d", k), "pointer %v": fmt.Sprintf("%v", &k),
		"struct %+v": fmt.Sprintf("%+v", wrapper{Secret: k, Ptr: &k}),
		"struct %#v": fmt.Sprintf("%#v", wrapper{Secret: k}),
		"Println":    fmt.Sprintln(k),
		"String":     k.String(),
		"slog json":  logBuf.String(),
		"slog text":  textBuf.String(),
		"json":       string(j),
		"xml":        string(x),
		"gob":        g.String(),
		"slice %v":   fmt.Sprintf("%v", []Key{k}),
		"map %v":     fmt.Sprintf("%v", map[string]Key{"k": k}),
	}
	for name, out := range cases {
		t.Run(name, func(t *testing.T) {
			if leaks(out) {
				t.Fatalf("key bytes leaked: %q", out)
			}
			if !strings.Contains(out, Redacted) {
				t.Fatalf("output %q does not say %s", out, Redacted)
			}
		})
	}
}

func TestKeyRefusesDecoding(t *testing.T) {
	var k Key
	if err := json.Unmarshal([]byte(`"REDACTED"`), &k); err == nil {
		t.Error("json decoded a key")
	}
	if err := k.UnmarshalText([]byte("00")); err == nil {
		t.Error("UnmarshalText decoded a key")
	}
	if err := k.UnmarshalBinary(make([]byte, KeySize)); err == nil {
		t.Error("UnmarshalBinary decoded a key")
	}
	if !k.IsZero() {
		t.Error("failed decoding left a key behind")
	}
}

func TestFromBytes(t *testing.T) {
	for _, n := range []int{0, 1, 16, 31, 33, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			if _, err := FromBytes(make([]byte, n)); err != ErrKeySize {
				t.Fatalf("FromBytes(%d bytes) = %v, want ErrKeySize", n, err)
			}
		})
	}
	t.Run("copies input", func(t *testing.T) {
		raw := bytes.Repeat([]byte{7}, KeySize)
		k, err := FromBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		clear(raw)
		if !bytes.Equal(k.RevealBytes(), bytes.Repeat([]byte{7}, KeySize)) {
			t.Fatal("key shares storage with its input")
		}
	})
}

func TestEqualAndDestroy(t *testing.T) {
	a, b := fixed(t), fixed(t)
	c := Generate()
	var zero Key
	tests := []struct {
		name string
		x, y Key
		want bool
	}{
		{"same bytes", a, b, true},
		{"copy", a, a, true},
		{"different", a, c, false},
		{"zero vs key", zero, a, false},
		{"key vs zero", a, zero, false},
		{"zero vs zero", zero, Key{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.x.Equal(tt.y); got != tt.want {
				t.Fatalf("Equal = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("destroy clears every copy", func(t *testing.T) {
		cp := a
		a.Destroy()
		if !bytes.Equal(cp.RevealBytes(), make([]byte, KeySize)) {
			t.Fatal("copy still holds key bytes after Destroy")
		}
		if a.Equal(b) {
			t.Fatal("destroyed key still equals the original bytes")
		}
		zero.Destroy() // must not panic
	})
}

func TestNewKey(t *testing.T) {
	k1, err := NewKey(bytes.NewReader(bytes.Repeat([]byte{1}, KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1.RevealBytes(), bytes.Repeat([]byte{1}, KeySize)) {
		t.Fatal("NewKey did not use the reader's bytes")
	}
	if _, err := NewKey(bytes.NewReader(make([]byte, KeySize-1))); err == nil {
		t.Fatal("NewKey accepted a short read")
	}
	if Generate().Equal(Generate()) {
		t.Fatal("two generated keys are equal")
	}
	if len(Generate().RevealBytes()) != KeySize || (Key{}).RevealBytes() != nil {
		t.Fatal("RevealBytes length wrong")
	}
}
