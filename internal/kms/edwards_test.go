package kms

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"testing"
)

// TestEdwardsRFC8032Vectors signs the RFC 8032 §7.1 (Ed25519, TEST 2 and 3) and §7.3
// (Ed25519ph, TEST abc) vectors with material as the store keeps it (PKCS#8, SPEC.md §3) and
// the options Sign uses, and checks the public key Coffer returns (SubjectPublicKeyInfo).
func TestEdwardsRFC8032Vectors(t *testing.T) {
	tests := []struct {
		name, alg, seed, pub, msg, sig string
		prehash                        bool // the vector's message is Ed25519ph's M: KMS signs SHA-512(M)
	}{
		{"Ed25519 TEST 2", "ED25519_SHA_512", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
			"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
			"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00", false},
		{"Ed25519 TEST 3", "ED25519_SHA_512", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
			"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
			"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a", false},
		{"Ed25519ph TEST abc", "ED25519_PH_SHA_512", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
			"ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf", "616263",
			"98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed, pub, msg, want := unhex(t, tt.seed), unhex(t, tt.pub), unhex(t, tt.msg), unhex(t, tt.sig)
			raw, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(seed))
			if err != nil {
				t.Fatal(err)
			}
			m, err := decodeMaterial("ECC_NIST_EDWARDS25519", raw)
			if err != nil {
				t.Fatal(err)
			}
			der, err := publicDER(m)
			if err != nil {
				t.Fatal(err)
			}
			pk, err := x509.ParsePKIXPublicKey(der)
			if err != nil || !bytes.Equal(pk.(ed25519.PublicKey), pub) {
				t.Fatalf("public key %x (%v), want %x", pk, err, pub)
			}
			input := msg
			if tt.prehash {
				ph := sha512.Sum512(msg)
				input = ph[:]
			}
			sig, err := m.priv.Sign(nil, input, edwardsOptions(tt.alg))
			if err != nil || !bytes.Equal(sig, want) {
				t.Fatalf("signature %x (%v), want %x", sig, err, want)
			}
			sig[0] ^= 1
			if ed25519.VerifyWithOptions(pub, input, sig, edwardsOptions(tt.alg)) == nil {
				t.Fatal("a changed signature verifies")
			}
		})
	}
}

// TestEdwardsInput: ED25519_SHA_512 signs a RAW message as it is; ED25519_PH_SHA_512 takes a
// 64-byte DIGEST and prehashes it again; other combinations are ValidationException.
func TestEdwardsInput(t *testing.T) {
	digest := sha512.Sum512([]byte("message"))
	twice := sha512.Sum512(digest[:])
	tests := []struct {
		name, alg, mt string
		msg           []byte
		want          []byte // nil: ValidationException
	}{
		{"pure, RAW", "ED25519_SHA_512", "RAW", []byte("message"), []byte("message")},
		{"pure, no type is RAW", "ED25519_SHA_512", "", []byte("message"), []byte("message")},
		{"pure, DIGEST", "ED25519_SHA_512", "DIGEST", digest[:], nil},
		{"pure, EXTERNAL_MU", "ED25519_SHA_512", "EXTERNAL_MU", digest[:], nil},
		{"prehash, DIGEST is hashed again", "ED25519_PH_SHA_512", "DIGEST", digest[:], twice[:]},
		{"prehash, DIGEST of the wrong length", "ED25519_PH_SHA_512", "DIGEST", digest[:32], nil},
		{"prehash, RAW", "ED25519_PH_SHA_512", "RAW", []byte("message"), nil},
		{"prehash, no type is RAW", "ED25519_PH_SHA_512", "", []byte("message"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := edwardsInput(SignInput{SigningAlgorithm: tt.alg, MessageType: tt.mt, Message: tt.msg})
			if tt.want == nil {
				if !errors.Is(err, ErrValidation) {
					t.Fatalf("got %x, %v; want ValidationException", got, err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("got %x, %v; want %x", got, err, tt.want)
			}
		})
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
