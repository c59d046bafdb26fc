package audit

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Signer signs digests: SHA256withRSA, RSA PKCS#1 v1.5 over the SHA-256 of the string to sign.
type Signer interface {
	Sign(ctx context.Context, stringToSign []byte) ([]byte, error)
	PublicKey() PublicKey
}

// PublicKey is a published digest signing key, as CloudTrail ListPublicKeys returns one.
type PublicKey struct {
	DER         []byte // PKCS#1 RSAPublicKey DER
	Fingerprint string // hex of the first 16 bytes of SHA-256(DER): what digestPublicKeyFingerprint carries
	// ValidFrom is when the key was made; ValidTo, when a newer key replaced it (zero while
	// it is the current key).
	ValidFrom, ValidTo time.Time
}

// Sealer seals the signing private key; the server adapts the KMS (service-owned key
// "coffer/audit-signing"). The private key is never on disk unsealed.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, ec map[string]string) ([]byte, error)
	Open(ctx context.Context, sealed []byte, ec map[string]string) ([]byte, error)
}

// Fingerprint is the fingerprint of a PKCS#1 DER public key: hex(SHA-256(der)[:16]), 32 hex
// digits like CloudTrail's.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:16])
}

// Files of one signing key under keys/, named by its fingerprint FP:
//
//	FP.pub.der    the PKCS#1 RSAPublicKey DER
//	FP.json       {"fingerprint","validFrom"} (RFC 3339)
//	FP.key.sealed the PKCS#1 RSAPrivateKey DER, sealed by the Sealer under the encryption
//	              context {"coffer:audit-signing-key": FP}
const (
	pubExt    = ".pub.der"
	metaExt   = ".json"
	sealedExt = ".key.sealed"
	sealCtx   = "coffer:audit-signing-key"
)

type keyMeta struct {
	Fingerprint string    `json:"fingerprint"`
	ValidFrom   time.Time `json:"validFrom"`
}

// rsaSigner signs with an RSA private key held in memory only.
type rsaSigner struct {
	key *rsa.PrivateKey
	pub PublicKey
}

var _ Signer = (*rsaSigner)(nil)

// NewRSASigner makes a Signer of an RSA private key (tests; OpenSigner for the server).
func NewRSASigner(key *rsa.PrivateKey, validFrom time.Time) Signer {
	der := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	return &rsaSigner{key: key, pub: PublicKey{DER: der, Fingerprint: Fingerprint(der), ValidFrom: validFrom}}
}

func (s *rsaSigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	sum := sha256.Sum256(msg)
	return rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, sum[:])
}

func (s *rsaSigner) PublicKey() PublicKey { return s.pub }

// OpenSigner opens the signing key under dir/keys, making it once: an RSA-2048 key whose
// private half is stored only sealed by sl, and whose public half is published beside it.
// The newest key is the current one.
func OpenSigner(ctx context.Context, dir string, sl Sealer) (Signer, error) {
	keys, err := PublicKeys(dir)
	if err != nil {
		return nil, err
	}
	kd := filepath.Join(dir, keysDir)
	if len(keys) == 0 {
		return makeSigner(ctx, kd, sl)
	}
	cur := keys[len(keys)-1]
	key, err := openKey(ctx, kd, cur.Fingerprint, sl)
	if err != nil {
		return nil, err
	}
	return NewRSASigner(key, cur.ValidFrom), nil
}

// openKey unseals the private key of the published key fp and checks that it is fp's.
func openKey(ctx context.Context, kd, fp string, sl Sealer) (*rsa.PrivateKey, error) {
	sealed, err := os.ReadFile(filepath.Join(kd, fp+sealedExt))
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: %w", fp, err)
	}
	raw, err := sl.Open(ctx, sealed, map[string]string{sealCtx: fp})
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: unseal: %w", fp, err)
	}
	key, err := x509.ParsePKCS1PrivateKey(raw)
	clear(raw) // best effort: the parsed key keeps its own copy
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: %w", fp, err)
	}
	if Fingerprint(x509.MarshalPKCS1PublicKey(&key.PublicKey)) != fp {
		return nil, fmt.Errorf("audit signing key %s: the sealed private key does not match the public key", fp)
	}
	return key, nil
}

func makeSigner(ctx context.Context, kd string, sl Sealer) (Signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	s := NewRSASigner(key, time.Now().UTC().Truncate(time.Second))
	pub := s.PublicKey()
	raw := x509.MarshalPKCS1PrivateKey(key)
	sealed, err := sl.Seal(ctx, raw, map[string]string{sealCtx: pub.Fingerprint})
	clear(raw)
	if err != nil {
		return nil, fmt.Errorf("audit signing key: seal: %w", err)
	}
	if err := writeFileDurably(filepath.Join(kd, pub.Fingerprint+sealedExt), sealed); err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	if err := publishKey(kd, pub); err != nil {
		return nil, err
	}
	return s, nil
}

// publishKey writes the public key files of pub under kd; the metadata goes last, as a key
// is listed only once all its files are durable.
func publishKey(kd string, pub PublicKey) error {
	meta, err := json.Marshal(keyMeta{Fingerprint: pub.Fingerprint, ValidFrom: pub.ValidFrom})
	if err != nil {
		return err
	}
	for _, f := range []struct {
		ext  string
		data []byte
	}{{pubExt, pub.DER}, {metaExt, meta}} {
		if err := writeFileDurably(filepath.Join(kd, pub.Fingerprint+f.ext), f.data); err != nil {
			return fmt.Errorf("audit signing key: %w", err)
		}
	}
	return nil
}

// PublicKeys lists the published signing keys under dir/keys, oldest first; each but the
// newest is valid until the next one was made.
func PublicKeys(dir string) ([]PublicKey, error) {
	kd := filepath.Join(dir, keysDir)
	ents, err := os.ReadDir(kd)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit keys: %w", err)
	}
	var keys []PublicKey
	for _, e := range ents {
		fp, ok := strings.CutSuffix(e.Name(), metaExt)
		if !ok || e.IsDir() {
			continue
		}
		mb, err := os.ReadFile(filepath.Join(kd, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("audit keys: %w", err)
		}
		var m keyMeta
		if err := json.Unmarshal(mb, &m); err != nil || m.Fingerprint != fp {
			return nil, fmt.Errorf("audit keys: %s is damaged", e.Name())
		}
		der, err := os.ReadFile(filepath.Join(kd, fp+pubExt))
		if err != nil {
			return nil, fmt.Errorf("audit keys: %w", err)
		}
		if Fingerprint(der) != fp {
			return nil, fmt.Errorf("audit keys: %s%s does not match its fingerprint", fp, pubExt)
		}
		if _, err := x509.ParsePKCS1PublicKey(der); err != nil {
			return nil, fmt.Errorf("audit keys: %s%s: %w", fp, pubExt, err)
		}
		keys = append(keys, PublicKey{DER: der, Fingerprint: fp, ValidFrom: m.ValidFrom.UTC()})
	}
	slices.SortFunc(keys, func(a, b PublicKey) int { return a.ValidFrom.Compare(b.ValidFrom) })
	for i := range len(keys) - 1 {
		keys[i].ValidTo = keys[i+1].ValidFrom
	}
	return keys, nil
}

// TrustedKeys returns the published signing keys that are this server's own: those whose
// sealed private key sl opens and matches, oldest first, each valid until the next one. A
// key published under keys/ by someone who could write there but cannot seal with the KMS
// (its private key is theirs) is left out, so what ListPublicKeys publishes never vouches for
// digests they sign.
func TrustedKeys(ctx context.Context, dir string, sl Sealer) ([]PublicKey, error) {
	keys, err := PublicKeys(dir)
	if err != nil {
		return nil, err
	}
	var out []PublicKey
	for _, k := range keys {
		if _, err := openKey(ctx, filepath.Join(dir, keysDir), k.Fingerprint, sl); err == nil {
			k.ValidTo = time.Time{}
			out = append(out, k)
		}
	}
	for i := range len(out) - 1 {
		out[i].ValidTo = out[i+1].ValidFrom
	}
	return out, nil
}

// verifySignature checks a hex signature over stringToSign with a PKCS#1 DER public key.
func verifySignature(der []byte, stringToSign, sigHex string) error {
	pub, err := x509.ParsePKCS1PublicKey(der)
	if err != nil {
		return err
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil {
		return fmt.Errorf("signature is not hex: %w", err)
	}
	sum := sha256.Sum256([]byte(stringToSign))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}
