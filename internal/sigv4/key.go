package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"hash"
	"sync"
)

// maxCachedKeys bounds the signing-key cache. A key is valid for one day, one
// region and one service, so a server sees about one entry per active access
// key and service; the bound only matters under attack or churn.
const maxCachedKeys = 4096

// keyCache memoises derived signing keys. The entry keeps a hash of the secret
// it was derived from so that a rotated secret never reuses a stale key, without
// holding the secret itself.
type keyCache struct {
	mu sync.Mutex
	m  map[string]cachedKey
}

type cachedKey struct {
	secretHash [sha256.Size]byte
	key        [sha256.Size]byte
	// signers are signers under key, kept for the next requests: setting up an HMAC's
	// keyed state costs more than the HMAC of a request's string to sign.
	signers *sync.Pool
}

// signingKey returns HMAC chain "AWS4"+secret → date → region → service →
// "aws4_request", from the cache when possible.
func (c *keyCache) signingKey(accessKey string, secret []byte, date, region, service string) [sha256.Size]byte {
	return c.entry(accessKey, secret, date, region, service).key
}

// signer returns a signer under the signing key of signingKey, and the pool to give it back
// to (with Put) once the request no longer needs it; a chunked body keeps it to verify its
// chunks.
func (c *keyCache) signer(accessKey string, secret []byte, date, region, service string) (*signer, *sync.Pool) {
	e := c.entry(accessKey, secret, date, region, service)
	if sg, ok := e.signers.Get().(*signer); ok {
		return sg, e.signers
	}
	return newSigner(e.key), e.signers
}

func (c *keyCache) entry(accessKey string, secret []byte, date, region, service string) cachedKey {
	id := accessKey + "\x00" + date + "\x00" + region + "\x00" + service
	sum := sha256.Sum256(secret)
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && subtle.ConstantTimeCompare(e.secretHash[:], sum[:]) == 1 {
		return e
	}
	k := deriveKey(secret, date, region, service)
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]cachedKey)
	}
	if len(c.m) >= maxCachedKeys {
		// Drop an arbitrary entry; map iteration order is randomised.
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	e = cachedKey{secretHash: sum, key: k, signers: &sync.Pool{}}
	c.m[id] = e
	c.mu.Unlock()
	return e
}

// deriveKey computes the SigV4 signing key. The intermediate buffers hold key
// material and are cleared (best effort: the hash state is not).
func deriveKey(secret []byte, date, region, service string) [sha256.Size]byte {
	seed := make([]byte, 0, 4+len(secret))
	seed = append(seed, "AWS4"...)
	seed = append(seed, secret...)
	var k [sha256.Size]byte
	mac := func(key []byte, data string) {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		h.Sum(k[:0])
	}
	mac(seed, date)
	clear(seed)
	var tmp [sha256.Size]byte
	for _, part := range [...]string{region, service, "aws4_request"} {
		tmp = k
		mac(tmp[:], part)
	}
	clear(tmp[:])
	return k
}

// signer computes HMAC-SHA256 signatures under one signing key, reusing its
// hash state across chunks.
type signer struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

func newSigner(key [sha256.Size]byte) *signer {
	return &signer{mac: hmac.New(sha256.New, key[:])}
}

// sign returns HMAC(key, msg) in s.sum; the slice is valid until the next call.
func (s *signer) sign(msg []byte) []byte {
	s.mac.Reset()
	s.mac.Write(msg)
	return s.mac.Sum(s.sum[:0])
}
