package secret

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
)

// Bytes is secret material of any length: KMS data keys, HMAC keys, unsealed key blobs. It
// redacts itself like Key (every fmt verb, %#v included, JSON, XML, text, gob and slog print
// "REDACTED") and is read only through RevealBytes. Copies share one buffer, so Destroy on any
// copy clears them all. The zero Bytes holds nothing.
type Bytes struct {
	b *[]byte
}

// BytesFrom returns a Bytes holding a copy of raw. The caller should clear raw once it is no
// longer needed.
func BytesFrom(raw []byte) Bytes {
	b := make([]byte, len(raw))
	copy(b, raw)
	return Bytes{b: &b}
}

// TakeBytes returns a Bytes that owns raw itself, without a copy: the caller must not use raw
// afterwards. It spares the copy (and an uncleared duplicate) for buffers a decoder just filled.
func TakeBytes(raw []byte) Bytes { return Bytes{b: &raw} }

// RevealBytes returns the secret bytes. The slice aliases the storage: do not retain, modify,
// print or log it. It returns nil for the zero Bytes.
func (s Bytes) RevealBytes() []byte {
	if s.b == nil {
		return nil
	}
	return *s.b
}

// Len returns the number of secret bytes; it is not secret.
func (s Bytes) Len() int {
	if s.b == nil {
		return 0
	}
	return len(*s.b)
}

// IsZero reports whether s holds nothing (the zero Bytes).
func (s Bytes) IsZero() bool { return s.b == nil }

// Equal reports in constant time (for equal lengths) whether s and o hold the same bytes.
func (s Bytes) Equal(o Bytes) bool {
	if s.b == nil || o.b == nil {
		return s.b == nil && o.b == nil
	}
	return subtle.ConstantTimeCompare(*s.b, *o.b) == 1
}

// Key returns the bytes as a Key (a copy) when they are exactly KeySize long.
func (s Bytes) Key() (Key, error) { return FromBytes(s.RevealBytes()) }

// Destroy overwrites the bytes with zeros, for s and every copy of it. Best effort: see the
// package documentation.
func (s Bytes) Destroy() {
	if s.b != nil {
		clear(*s.b)
	}
}

// String returns "REDACTED".
func (Bytes) String() string { return Redacted }

// GoString returns "REDACTED", also for %#v.
func (Bytes) GoString() string { return Redacted }

// Format writes "REDACTED" for every verb.
func (Bytes) Format(f fmt.State, _ rune) { io.WriteString(f, Redacted) }

// LogValue makes log/slog print "REDACTED".
func (Bytes) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText returns "REDACTED".
func (Bytes) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// MarshalJSON returns the JSON string "REDACTED".
func (Bytes) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalBinary returns "REDACTED".
func (Bytes) MarshalBinary() ([]byte, error) { return []byte(Redacted), nil }

// UnmarshalText always fails: secrets are never read back from a redacted form.
func (*Bytes) UnmarshalText([]byte) error { return errNoMarshal }

// UnmarshalJSON always fails.
func (*Bytes) UnmarshalJSON([]byte) error { return errNoMarshal }

// UnmarshalBinary always fails.
func (*Bytes) UnmarshalBinary([]byte) error { return errNoMarshal }
