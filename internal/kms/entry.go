package kms

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer/coffer/internal/secret"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// entry is a cached key: an immutable snapshot of its record and, filled lazily, the unsealed
// material of its versions.
type entry struct {
	key *Key
	arn string // the key's ARN, built once (Service.KeyARN)
	mu  sync.RWMutex
	// mats maps a material id to unsealed material. Material of an id never changes, so a
	// rewritten record can keep its predecessor's map entries.
	mats map[string]*material
	// policy is the key's compiled policy, set on first authorization (Service.keyPolicy).
	policy atomic.Pointer[compiledPolicy]
	// loaded is when the record was read (only with a CacheTTL); stale says another node
	// may have changed it since (Invalidate). Either makes the next load read it again.
	loaded time.Time
	stale  atomic.Bool
}

// material is unsealed key material in the form its operations need. It never prints.
type material struct {
	sym secret.Key // SYMMETRIC_DEFAULT (32 bytes)
	// blobPRK is HKDF-Extract of sym, the half of each blob's key derivation that is the
	// same for every blob (blobPRK in blob.go), kept so that a seal or open does only the other.
	blobPRK secret.Key
	hmac    []byte        // HMAC_*: raw key bytes
	priv    crypto.Signer // RSA and NIST ECC
	k1      *secp256k1.PrivateKey
	ml      *mldsaKey // ML_DSA_*
}

func (*material) String() string { return "REDACTED" }

func (m *material) destroy() {
	m.sym.Destroy()
	m.blobPRK.Destroy()
	clear(m.hmac) // best effort; parsed asymmetric keys cannot be wiped
}

func newEntry(k *Key, arn string, old *entry) *entry {
	e := &entry{key: k, arn: arn, mats: make(map[string]*material)}
	if old != nil {
		old.mu.RLock()
		for _, v := range k.Versions {
			if m := old.mats[v.MaterialID]; m != nil {
				e.mats[v.MaterialID] = m
			}
		}
		old.mu.RUnlock()
	}
	return e
}

func (e *entry) destroy() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, m := range e.mats {
		m.destroy()
		delete(e.mats, id)
	}
}

// material returns the unsealed material of version v of the entry's key.
func (s *Service) material(ctx context.Context, e *entry, v *Version) (*material, error) {
	e.mu.RLock()
	m := e.mats[v.MaterialID]
	e.mu.RUnlock()
	if m != nil {
		return m, nil
	}
	raw, err := s.openMaterial(ctx, v.Sealed, v.Slot, e.key.ID, v.Number)
	if err != nil {
		return nil, s.internal("unseal", err)
	}
	defer clear(raw) // best effort
	m, err = decodeMaterial(e.key.Spec, raw)
	if err != nil {
		return nil, s.internal("decode material", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.mats[v.MaterialID]; old != nil {
		m.destroy()
		return old, nil
	}
	e.mats[v.MaterialID] = m
	return m, nil
}

// generateMaterial makes fresh material for a key spec, in its stored encoding (SPEC.md §3).
func generateMaterial(specName string) ([]byte, error) {
	sp, ok := specs[specName]
	if !ok {
		return nil, fmt.Errorf("kms: unknown key spec %q", specName)
	}
	switch {
	case specName == SpecSymmetric:
		b := make([]byte, 32)
		rand.Read(b)
		return b, nil
	case sp.hmacLen > 0:
		b := make([]byte, sp.hmacLen)
		rand.Read(b)
		return b, nil
	case sp.rsaBits > 0:
		k, err := rsa.GenerateKey(rand.Reader, sp.rsaBits)
		if err != nil {
			return nil, err
		}
		return x509.MarshalPKCS8PrivateKey(k)
	case sp.mldsa != nil:
		return newMLDSASeed(), nil
	case sp.edwards:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		defer clear(k)
		return x509.MarshalPKCS8PrivateKey(k)
	case sp.curve == "secp256k1":
		k, err := secp256k1.GeneratePrivateKey()
		if err != nil {
			return nil, err
		}
		b := k.Serialize()
		k.Zero()
		return b, nil
	default:
		k, err := ecdsa.GenerateKey(nistCurve(sp.curve), rand.Reader)
		if err != nil {
			return nil, err
		}
		return x509.MarshalPKCS8PrivateKey(k)
	}
}

func nistCurve(name string) elliptic.Curve {
	switch name {
	case "P-256":
		return elliptic.P256()
	case "P-384":
		return elliptic.P384()
	case "P-521":
		return elliptic.P521()
	}
	return nil
}

func decodeMaterial(specName string, raw []byte) (*material, error) {
	sp, ok := specs[specName]
	if !ok {
		return nil, fmt.Errorf("kms: unknown key spec %q", specName)
	}
	switch {
	case specName == SpecSymmetric:
		k, err := secret.FromBytes(raw)
		if err != nil {
			return nil, err
		}
		prk, err := blobPRK(raw)
		if err != nil {
			return nil, err
		}
		defer clear(prk)
		pk, err := secret.FromBytes(prk)
		if err != nil {
			return nil, err
		}
		return &material{sym: k, blobPRK: pk}, nil
	case sp.hmacLen > 0:
		if len(raw) != sp.hmacLen {
			return nil, errors.New("kms: hmac material length")
		}
		return &material{hmac: append([]byte(nil), raw...)}, nil
	case sp.mldsa != nil:
		k, err := decodeMLDSA(sp.mldsa, raw)
		if err != nil {
			return nil, err
		}
		return &material{ml: k}, nil
	case sp.curve == "secp256k1":
		if len(raw) != 32 {
			return nil, errors.New("kms: secp256k1 material length")
		}
		return &material{k1: secp256k1.PrivKeyFromBytes(raw)}, nil
	default:
		k, err := x509.ParsePKCS8PrivateKey(raw)
		if err != nil {
			return nil, err
		}
		signer, ok := k.(crypto.Signer)
		if !ok {
			return nil, errors.New("kms: material is not a signer")
		}
		return &material{priv: signer}, nil
	}
}
