package sse

import (
	"bytes"
	"errors"
	"testing"

	"github.com/coffer/coffer/internal/secret"
)

func TestSealRoundTrip(t *testing.T) {
	kek, other, objectKey := testKey(t, 10), testKey(t, 11), secret.Generate()
	id := Identity{Bucket: "b", Key: "k", UploadID: "u"}
	for _, mode := range []Mode{ModeSSES3, ModeSSEKMS, ModeSSEC} {
		t.Run(mode.String(), func(t *testing.T) {
			s1, err := SealKey(kek, objectKey, mode, id)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := SealKey(kek, objectKey, mode, id)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(s1.Bytes(), s2.Bytes()) {
				t.Fatal("two sealings are identical: salt not fresh")
			}
			if len(s1.Bytes()) != SealedKeySize || s1.Mode() != mode {
				t.Fatalf("size %d, mode %d", len(s1.Bytes()), s1.Mode())
			}
			if bytes.Contains(s1.Bytes(), objectKey.RevealBytes()) || bytes.Contains(s1.Bytes(), kek.RevealBytes()) {
				t.Fatal("sealed key contains a key in the clear")
			}
			got, err := UnsealKey(s1.Bytes(), kek, mode, id)
			if err != nil || !got.Equal(objectKey) {
				t.Fatalf("unseal: %v", err)
			}
			_, err = s1.Unseal(other, mode, id)
			wantWrong := error(ErrAuth)
			if mode == ModeSSEC {
				wantWrong = ErrWrongKey
			}
			if err != wantWrong {
				t.Fatalf("unseal with another KEK = %v, want %v", err, wantWrong)
			}
			wantCheck := error(ErrAuth)
			if mode == ModeSSEC {
				wantCheck = nil
			}
			if err := s1.CheckCustomerKey(kek); err != wantCheck {
				t.Fatalf("CheckCustomerKey = %v, want %v", err, wantCheck)
			}
		})
	}
	t.Run("check rejects other customer key", func(t *testing.T) {
		s, err := SealKey(kek, objectKey, ModeSSEC, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CheckCustomerKey(other); err != ErrWrongKey {
			t.Fatalf("CheckCustomerKey = %v", err)
		}
		if err := s.CheckCustomerKey(secret.Key{}); err != ErrNoKey {
			t.Fatalf("CheckCustomerKey(zero) = %v", err)
		}
	})
}

func TestSealArguments(t *testing.T) {
	kek, objectKey := testKey(t, 12), testKey(t, 13)
	id := Identity{Bucket: "b", Key: "k"}
	tests := []struct {
		name           string
		kek, objectKey secret.Key
		mode           Mode
		id             Identity
		want           error
	}{
		{"zero kek", secret.Key{}, objectKey, ModeSSES3, id, ErrNoKey},
		{"zero object key", kek, secret.Key{}, ModeSSES3, id, ErrNoKey},
		{"part identity", kek, objectKey, ModeSSES3, Identity{Bucket: "b", Key: "k", UploadID: "u", PartNumber: 1}, ErrInvalidIdentity},
		{"bad identity", kek, objectKey, ModeSSES3, Identity{Bucket: "b"}, ErrInvalidIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := SealKey(tt.kek, tt.objectKey, tt.mode, tt.id); !errors.Is(err, tt.want) {
				t.Fatalf("SealKey = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("unknown mode", func(t *testing.T) {
		if _, err := SealKey(kek, objectKey, 0, id); err == nil {
			t.Fatal("mode 0 accepted")
		}
		s, _ := SealKey(kek, objectKey, ModeSSES3, id)
		if _, err := s.Unseal(kek, 4, id); err == nil {
			t.Fatal("unseal with mode 4 accepted")
		}
	})
}

func TestParseSealedKeyStrict(t *testing.T) {
	s, err := SealKey(testKey(t, 14), testKey(t, 15), ModeSSEKMS, Identity{Bucket: "b", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	good := s.Bytes()
	if p, err := ParseSealedKey(good); err != nil || !bytes.Equal(p.Bytes(), good) {
		t.Fatalf("parse of a good key: %v", err)
	}
	mut := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := map[string][]byte{
		"empty":          nil,
		"short":          good[:SealedKeySize-1],
		"long":           append(append([]byte(nil), good...), 0),
		"magic":          mut(func(b []byte) []byte { b[3] = 'z'; return b }),
		"version 0":      mut(func(b []byte) []byte { b[4] = 0; return b }),
		"version 2":      mut(func(b []byte) []byte { b[4] = 2; return b }),
		"mode 0":         mut(func(b []byte) []byte { b[5] = 0; return b }),
		"mode 4":         mut(func(b []byte) []byte { b[5] = 4; return b }),
		"reserved":       mut(func(b []byte) []byte { b[6] = 1; return b }),
		"check not zero": mut(func(b []byte) []byte { b[71] = 1; return b }),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseSealedKey(b); err != ErrAuth {
				t.Fatalf("ParseSealedKey = %v, want ErrAuth", err)
			}
		})
	}
}
