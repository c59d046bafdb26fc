package kms

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// mldsaVectors is testdata/mldsa_vectors.json (its comment names the sources).
type mldsaVectors struct {
	KeyGen []struct {
		Spec, Seed, PkSHA256 string
		TcID, PkSize         int
	}
	Verify []struct {
		Spec, PublicKey, Msg, Sig string
		TcID                      int
	}
}

func loadMLDSAVectors(t *testing.T) mldsaVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/mldsa_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v mldsaVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.KeyGen) != 3 || len(v.Verify) == 0 {
		t.Fatalf("vectors did not load: %d keyGen, %d verify", len(v.KeyGen), len(v.Verify))
	}
	return v
}

// TestMLDSAKeyGenVectors derives each parameter set's key from a NIST ACVP keyGen seed, as the
// stored material (the seed, SPEC.md §3) is decoded, checks the public key against the
// vector, and that GetPublicKey's SubjectPublicKeyInfo carries it under id-ml-dsa-*.
func TestMLDSAKeyGenVectors(t *testing.T) {
	oids := map[string]asn1.ObjectIdentifier{
		"ML_DSA_44": {2, 16, 840, 1, 101, 3, 4, 3, 17},
		"ML_DSA_65": {2, 16, 840, 1, 101, 3, 4, 3, 18},
		"ML_DSA_87": {2, 16, 840, 1, 101, 3, 4, 3, 19},
	}
	for _, tt := range loadMLDSAVectors(t).KeyGen {
		t.Run(tt.Spec, func(t *testing.T) {
			m, err := decodeMaterial(tt.Spec, unhex(t, tt.Seed))
			if err != nil {
				t.Fatal(err)
			}
			pk, err := m.ml.pub.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(pk); len(pk) != tt.PkSize || !bytes.Equal(sum[:], unhex(t, tt.PkSHA256)) {
				t.Fatalf("ACVP tcId %d: public key of %d bytes with SHA-256 %x, want %d bytes, %s", tt.TcID, len(pk), sum, tt.PkSize, tt.PkSHA256)
			}
			der, err := publicDER(m)
			if err != nil {
				t.Fatal(err)
			}
			var spki struct {
				Algorithm pkix.AlgorithmIdentifier
				PublicKey asn1.BitString
			}
			if rest, err := asn1.Unmarshal(der, &spki); err != nil || len(rest) > 0 {
				t.Fatalf("SubjectPublicKeyInfo: %v (%d bytes left)", err, len(rest))
			}
			if !spki.Algorithm.Algorithm.Equal(oids[tt.Spec]) || len(spki.Algorithm.Parameters.FullBytes) != 0 || !bytes.Equal(spki.PublicKey.Bytes, pk) {
				t.Fatalf("SubjectPublicKeyInfo: algorithm %v parameters %x, key equal %v", spki.Algorithm.Algorithm, spki.Algorithm.Parameters.FullBytes, bytes.Equal(spki.PublicKey.Bytes, pk))
			}
		})
	}
}

// TestMLDSAVerifyVectors verifies a published valid signature (Wycheproof, pure ML-DSA with
// the empty context, as KMS signs) with the verification Verify uses, and refuses it for
// another message or once changed.
func TestMLDSAVerifyVectors(t *testing.T) {
	for _, tt := range loadMLDSAVectors(t).Verify {
		scheme := specs[tt.Spec].mldsa
		pub, err := scheme.UnmarshalBinaryPublicKey(unhex(t, tt.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		k := &mldsaKey{pub: pub}
		msg, sig := unhex(t, tt.Msg), unhex(t, tt.Sig)
		changed := bytes.Clone(sig)
		changed[len(changed)/2] ^= 1
		cases := []struct {
			name     string
			msg, sig []byte
			want     bool
		}{
			{"valid", msg, sig, true},
			{"another message", append(bytes.Clone(msg), '!'), sig, false},
			{"changed signature", msg, changed, false},
			{"truncated signature", msg, sig[:len(sig)-1], false},
		}
		for _, c := range cases {
			t.Run(tt.Spec+"/"+c.name, func(t *testing.T) {
				if got := k.verify(c.msg, c.sig); got != c.want {
					t.Fatalf("Wycheproof tcId %d: verify %v, want %v", tt.TcID, got, c.want)
				}
			})
		}
	}
}

// TestMLDSASignRoundTrip signs with fresh keys of each parameter set, as Sign does (hedged),
// and verifies; two signatures of one message differ (fresh randomness) and both verify.
func TestMLDSASignRoundTrip(t *testing.T) {
	for _, name := range []string{"ML_DSA_44", "ML_DSA_65", "ML_DSA_87"} {
		t.Run(name, func(t *testing.T) {
			raw, err := generateMaterial(name)
			if err != nil || len(raw) != mldsaSeedSize {
				t.Fatalf("material of %d bytes, %v", len(raw), err)
			}
			m, err := decodeMaterial(name, raw)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("round trip")
			a, err := m.ml.sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			b, err := m.ml.sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != specs[name].mldsa.SignatureSize() || bytes.Equal(a, b) || !m.ml.verify(msg, a) || !m.ml.verify(msg, b) {
				t.Fatalf("signatures of %d bytes, equal %v, verify %v %v", len(a), bytes.Equal(a, b), m.ml.verify(msg, a), m.ml.verify(msg, b))
			}
			if m.ml.verify([]byte("another"), a) {
				t.Fatal("a signature verifies for another message")
			}
		})
	}
}

// TestMLDSAInput: RAW (or none) signs the message; EXTERNAL_MU is not supported here (after
// its length check); DIGEST and unknown types are refused.
func TestMLDSAInput(t *testing.T) {
	mu := make([]byte, 64)
	tests := []struct {
		name, mt string
		msg      []byte
		wantErr  error // nil: the message is signed as it is
	}{
		{"RAW", "RAW", []byte("m"), nil},
		{"no type is RAW", "", []byte("m"), nil},
		{"EXTERNAL_MU", "EXTERNAL_MU", mu, ErrUnsupported},
		{"EXTERNAL_MU of the wrong length", "EXTERNAL_MU", mu[:32], ErrValidation},
		{"DIGEST", "DIGEST", mu, ErrValidation},
		{"unknown", "HASHED", mu, ErrValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mldsaInput(SignInput{SigningAlgorithm: "ML_DSA_SHAKE_256", MessageType: tt.mt, Message: tt.msg})
			if tt.wantErr != nil {
				if err == nil || !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.msg) {
				t.Fatalf("got %x, %v", got, err)
			}
		})
	}
}
