package kms

import (
	"crypto"
	"slices"

	"github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// spec describes one KeySpec (KMS_API.md §2.5).
type spec struct {
	usages  []string // allowed usages, the first is the default (only for symmetric keys)
	encrypt []string // encryption algorithms for ENCRYPT_DECRYPT
	sign    []string // signing algorithms for SIGN_VERIFY
	mac     []string
	agree   bool // KEY_AGREEMENT allowed (ECDH)
	hmacLen int
	rsaBits int
	curve   string      // ECC curve name
	edwards bool        // Ed25519 (ECC_NIST_EDWARDS25519)
	mldsa   sign.Scheme // ML-DSA parameter set (ML_DSA_*)
	hash    crypto.Hash
}

var rsaSign = []string{
	"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
	"RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
}

var rsaEncrypt = []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}

// specs is read-only after initialisation.
var specs = map[string]spec{
	SpecSymmetric:           {usages: []string{UsageEncryptDecrypt}, encrypt: []string{SpecSymmetric}},
	"RSA_2048":              {usages: []string{UsageEncryptDecrypt, UsageSignVerify}, encrypt: rsaEncrypt, sign: rsaSign, rsaBits: 2048},
	"RSA_3072":              {usages: []string{UsageEncryptDecrypt, UsageSignVerify}, encrypt: rsaEncrypt, sign: rsaSign, rsaBits: 3072},
	"RSA_4096":              {usages: []string{UsageEncryptDecrypt, UsageSignVerify}, encrypt: rsaEncrypt, sign: rsaSign, rsaBits: 4096},
	"ECC_NIST_P256":         {usages: []string{UsageSignVerify, UsageKeyAgreement}, sign: []string{"ECDSA_SHA_256"}, agree: true, curve: "P-256", hash: crypto.SHA256},
	"ECC_NIST_P384":         {usages: []string{UsageSignVerify, UsageKeyAgreement}, sign: []string{"ECDSA_SHA_384"}, agree: true, curve: "P-384", hash: crypto.SHA384},
	"ECC_NIST_P521":         {usages: []string{UsageSignVerify, UsageKeyAgreement}, sign: []string{"ECDSA_SHA_512"}, agree: true, curve: "P-521", hash: crypto.SHA512},
	"ECC_NIST_EDWARDS25519": {usages: []string{UsageSignVerify}, sign: []string{"ED25519_SHA_512", "ED25519_PH_SHA_512"}, edwards: true, hash: crypto.SHA512},
	"ML_DSA_44":             {usages: []string{UsageSignVerify}, sign: []string{"ML_DSA_SHAKE_256"}, mldsa: mldsa44.Scheme()},
	"ML_DSA_65":             {usages: []string{UsageSignVerify}, sign: []string{"ML_DSA_SHAKE_256"}, mldsa: mldsa65.Scheme()},
	"ML_DSA_87":             {usages: []string{UsageSignVerify}, sign: []string{"ML_DSA_SHAKE_256"}, mldsa: mldsa87.Scheme()},
	"ECC_SECG_P256K1":       {usages: []string{UsageSignVerify}, sign: []string{"ECDSA_SHA_256"}, curve: "secp256k1", hash: crypto.SHA256},
	"HMAC_224":              {usages: []string{UsageMac}, mac: []string{"HMAC_SHA_224"}, hmacLen: 28, hash: crypto.SHA224},
	"HMAC_256":              {usages: []string{UsageMac}, mac: []string{"HMAC_SHA_256"}, hmacLen: 32, hash: crypto.SHA256},
	"HMAC_384":              {usages: []string{UsageMac}, mac: []string{"HMAC_SHA_384"}, hmacLen: 48, hash: crypto.SHA384},
	"HMAC_512":              {usages: []string{UsageMac}, mac: []string{"HMAC_SHA_512"}, hmacLen: 64, hash: crypto.SHA512},
}

// algorithms returns the algorithm lists KeyMetadata shows for a key.
func algorithms(specName, usage string) (enc, sign, mac, agree []string) {
	sp := specs[specName]
	switch usage {
	case UsageEncryptDecrypt:
		enc = slices.Clone(sp.encrypt)
	case UsageSignVerify:
		sign = slices.Clone(sp.sign)
	case UsageMac:
		mac = slices.Clone(sp.mac)
	case UsageKeyAgreement:
		agree = []string{"ECDH"}
	}
	return
}

// signHash returns the hash and padding of a signing algorithm.
func signAlg(alg string) (h crypto.Hash, pss bool, ok bool) {
	switch alg {
	case "RSASSA_PSS_SHA_256":
		return crypto.SHA256, true, true
	case "RSASSA_PSS_SHA_384":
		return crypto.SHA384, true, true
	case "RSASSA_PSS_SHA_512":
		return crypto.SHA512, true, true
	case "RSASSA_PKCS1_V1_5_SHA_256", "ECDSA_SHA_256":
		return crypto.SHA256, false, true
	case "RSASSA_PKCS1_V1_5_SHA_384", "ECDSA_SHA_384":
		return crypto.SHA384, false, true
	case "RSASSA_PKCS1_V1_5_SHA_512", "ECDSA_SHA_512", "ED25519_SHA_512", "ED25519_PH_SHA_512":
		return crypto.SHA512, false, true
	case "ML_DSA_SHAKE_256": // SHAKE256 is inside ML-DSA: no hash of ours
		return 0, false, true
	}
	return 0, false, false
}
