// Package secret holds key material in types that cannot leak it by accident.
//
// A Key prints, formats, marshals and logs as "REDACTED" whatever verb or encoder is used. Its
// bytes are reachable only through RevealBytes, whose name makes every use of the raw key visible
// in review. Copies of a Key share one buffer, so Destroy on any copy clears them all.
//
// Clearing is best effort: Go may have copied the bytes before they reached a Key (I/O buffers,
// decoders), and derived state such as the AES key schedule inside crypto/aes cannot be wiped.
// Destroy shortens the window in which a memory disclosure reveals a key; it is no guarantee.
package secret

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// KeySize is the length in bytes of every Key: 256 bits, the size of an AES-256 key.
const KeySize = 32

// Redacted is what a Key shows in place of its value.
const Redacted = "REDACTED"

// ErrKeySize is returned when a key is built from a slice that is not KeySize bytes long.
var ErrKeySize = errors.New("secret: key must be 32 bytes")

// errNoMarshal is returned by the decoding methods: keys are never read from text or JSON.
var errNoMarshal = errors.New("secret: keys cannot be decoded from text or JSON")

// Key is a 256-bit secret key. The zero Key holds no key (IsZero reports true); use it only as
// "no key". A Key is safe to copy and to use from several goroutines, except that Destroy must
// not race with other use.
type Key struct {
	b *[KeySize]byte
}

// NewKey returns a fresh key read from rnd. Production code passes crypto/rand.Reader (or uses
// Generate); a deterministic reader is only for test vectors.
func NewKey(rnd io.Reader) (Key, error) {
	b := new([KeySize]byte)
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		clear(b[:])
		return Key{}, fmt.Errorf("secret: reading random key: %w", err)
	}
	return Key{b: b}, nil
}

// Generate returns a fresh random key from crypto/rand.
func Generate() Key {
	b := new([KeySize]byte)
	rand.Read(b[:]) // never fails since Go 1.24
	return Key{b: b}
}

// FromBytes returns a key holding a copy of raw, which must be KeySize bytes long. The caller
// should clear raw once it is no longer needed.
func FromBytes(raw []byte) (Key, error) {
	if len(raw) != KeySize {
		return Key{}, ErrKeySize
	}
	b := new([KeySize]byte)
	copy(b[:], raw)
	return Key{b: b}, nil
}

// RevealBytes returns the raw key. The slice aliases the key's storage: do not retain, modify,
// print or log it. Every call site is a place where key bytes leave this package's protection.
// It returns nil for the zero Key.
func (k Key) RevealBytes() []byte {
	if k.b == nil {
		return nil
	}
	return k.b[:]
}

// IsZero reports whether k holds no key (the zero Key).
func (k Key) IsZero() bool { return k.b == nil }

// Equal reports in constant time whether k and o hold the same bytes. Two zero Keys are equal; a
// zero Key never equals a non-zero one.
func (k Key) Equal(o Key) bool {
	if k.b == nil || o.b == nil {
		return k.b == nil && o.b == nil
	}
	return subtle.ConstantTimeCompare(k.b[:], o.b[:]) == 1
}

// Destroy overwrites the key's bytes with zeros, for this Key and every copy of it. Afterwards the
// key is all zeros (it is not the zero Key). Best effort: see the package documentation.
func (k Key) Destroy() {
	if k.b != nil {
		clear(k.b[:])
	}
}

// String returns "REDACTED".
func (Key) String() string { return Redacted }

// GoString returns "REDACTED", also for %#v.
func (Key) GoString() string { return Redacted }

// Format writes "REDACTED" for every verb (%v, %s, %x, %X, %q, %d, %#v, ...).
func (Key) Format(f fmt.State, _ rune) { io.WriteString(f, Redacted) }

// LogValue makes log/slog print "REDACTED".
func (Key) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText returns "REDACTED"; it also covers encoding/xml and encoders that use TextMarshaler.
func (Key) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// MarshalJSON returns the JSON string "REDACTED".
func (Key) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalBinary returns "REDACTED", so encoding/gob and binary encoders never see the key.
func (Key) MarshalBinary() ([]byte, error) { return []byte(Redacted), nil }

// UnmarshalText always fails: a key is never read back from a redacted form.
func (*Key) UnmarshalText([]byte) error { return errNoMarshal }

// UnmarshalJSON always fails: a key is never read back from a redacted form.
func (*Key) UnmarshalJSON([]byte) error { return errNoMarshal }

// UnmarshalBinary always fails: a key is never read back from a redacted form.
func (*Key) UnmarshalBinary([]byte) error { return errNoMarshal }
