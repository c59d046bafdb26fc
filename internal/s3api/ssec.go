package s3api

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
)

// SSE-C on the wire: the customer key arrives in three headers (algorithm, base64 key, base64
// MD5 of the raw key), for the object itself or, with the x-amz-copy-source- prefix, for a
// copy source. Requests carrying a key must use TLS. The key lives in a secret.Key for the
// request only; handlers Destroy it when they return. Responses echo the algorithm and the
// MD5 computed from the request's key; the key itself is never echoed, logged or stored.

const (
	hdrSSECAlgorithm = hdrSSECPrefix + "algorithm"
	hdrSSECKeyMD5    = hdrSSECPrefix + "key-MD5"
	sseCAlgorithm    = "AES256"
)

const ssecRequests = "Requests specifying Server Side Encryption with Customer provided keys must "

var (
	errSSECNoAlgorithm  = &apiError{"InvalidArgument", http.StatusBadRequest, ssecRequests + "provide a valid encryption algorithm."}
	errSSECAlgorithm    = &apiError{"InvalidEncryptionAlgorithmError", http.StatusBadRequest, "The encryption request you specified is not valid. The valid value is AES256."}
	errSSECNoKey        = &apiError{"InvalidArgument", http.StatusBadRequest, ssecRequests + "provide an appropriate secret key."}
	errSSECNoKeyMD5     = &apiError{"InvalidArgument", http.StatusBadRequest, ssecRequests + "provide the client calculated MD5 of the secret key."}
	errSSECBadKey       = &apiError{"InvalidArgument", http.StatusBadRequest, "The secret key was invalid for the specified algorithm."}
	errSSECKeyMD5       = &apiError{"InvalidArgument", http.StatusBadRequest, "The calculated MD5 hash of the key did not match the hash that was provided."}
	errSSECIncompatible = &apiError{"InvalidArgument", http.StatusBadRequest, "Server Side Encryption with Customer provided key is incompatible with the encryption method specified"}
)

// parseCustomerKey reads the customer key headers under prefix (hdrSSECPrefix or
// hdrCopySSEC). No header at all is the zero Key; any one of them makes the request an SSE-C
// request, which must then be complete and correct. The caller destroys the key.
func parseCustomerKey(q *request, prefix string) (secret.Key, error) {
	h := q.r.Header
	if !hasHeaderPrefix(h, prefix) {
		return secret.Key{}, nil
	}
	if q.r.TLS == nil {
		return secret.Key{}, errSSECInsecure
	}
	alg, b64, sum := h.Get(prefix+"algorithm"), h.Get(prefix+"key"), h.Get(prefix+"key-MD5")
	switch {
	case alg == "":
		return secret.Key{}, errSSECNoAlgorithm
	case alg != sseCAlgorithm:
		return secret.Key{}, errSSECAlgorithm
	case b64 == "":
		return secret.Key{}, errSSECNoKey
	case sum == "":
		return secret.Key{}, errSSECNoKeyMD5
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	defer clear(raw) // best effort: the header strings themselves cannot be cleared
	if err != nil || len(raw) != secret.KeySize {
		return secret.Key{}, errSSECBadKey
	}
	want := md5.Sum(raw)
	got, err := base64.StdEncoding.DecodeString(sum)
	if err != nil || subtle.ConstantTimeCompare(got, want[:]) != 1 {
		return secret.Key{}, errSSECKeyMD5
	}
	return secret.FromBytes(raw)
}

// checkSSECAllowed refuses an SSE-C write to bucket b when b blocks SSE-C, before the key
// headers are validated, as S3 does (an authorization decision comes before validation). Only
// the destination's headers count: a copy from an SSE-C source to another mode is no SSE-C
// write. A plain-HTTP request is refused as insecure first.
func checkSSECAllowed(q *request, b object.Bucket) error {
	if !hasHeaderPrefix(q.r.Header, hdrSSECPrefix) {
		return nil
	}
	if q.r.TLS == nil {
		return errSSECInsecure
	}
	if object.BlocksSSEC(b) {
		return errAccessDenied
	}
	return nil
}

// echoCustomerKey reports an SSE-C object or upload: the algorithm and the MD5 of the key
// the request presented.
func echoCustomerKey(w http.ResponseWriter, enc *object.Encryption, ck secret.Key) {
	if enc == nil || enc.Algorithm != object.SSEC || ck.IsZero() {
		return
	}
	sum := md5.Sum(ck.RevealBytes())
	w.Header().Set(hdrSSECAlgorithm, sseCAlgorithm)
	w.Header().Set(hdrSSECKeyMD5, base64.StdEncoding.EncodeToString(sum[:]))
}
