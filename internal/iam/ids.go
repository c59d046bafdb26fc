package iam

import (
	"crypto/rand"
	"strings"
)

// Prefixes of ids and access keys, as IAM and STS make them.
const (
	userIDPrefix     = "AIDA"
	roleIDPrefix     = "AROA"
	policyIDPrefix   = "ANPA"
	accessKeyPrefix  = "AKIA"
	sessionKeyPrefix = "ASIA"
	// sessionTokenPrefix starts every session token Coffer issues (format version 1).
	sessionTokenPrefix = "CofferST1"
)

const (
	idAlphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// randomString returns n characters drawn uniformly from alphabet (whose length divides 256).
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails since Go 1.24
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func newID(prefix string) string          { return prefix + randomString(idAlphabet, 17) }
func newAccessKeyID(prefix string) string { return prefix + randomString(idAlphabet, 16) }

// newSecret returns a 40-character secret access key, as AWS makes them. The caller seals it
// and clears the returned slice.
func newSecret() []byte { return []byte(randomString(secretAlphabet, 40)) }

// newSessionToken returns a session token: the prefix and 256 random bits, base32.
func newSessionToken() string { return sessionTokenPrefix + randomString(idAlphabet, 52) }

// NewAccountID returns a random 12-digit account id not starting with 0.
func NewAccountID() string {
	s := randomString("0123456789012345678901234567890123456789012345678901234567890123", 12)
	if s[0] == '0' {
		s = "1" + s[1:]
	}
	return s
}

// validName reports whether s is an IAM user, role or policy name: 1..max of [\w+=,.@-].
func validName(s string, max int) bool {
	if len(s) < 1 || len(s) > max {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("_+=,.@-", c):
		default:
			return false
		}
	}
	return true
}

// validPath reports whether s is an IAM path: "/" or "/a/b/", 1..512 printable ASCII.
func validPath(s string) bool {
	if len(s) < 1 || len(s) > 512 || s[0] != '/' || s[len(s)-1] != '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
