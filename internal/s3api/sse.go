package s3api

import (
	"net/http"
	"strings"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
)

// Server-side encryption on the wire. Every object is encrypted: SSE-S3 (AES256) is accepted
// and is every bucket's default; SSE-C is in ssec.go. SSE-KMS and DSSE-KMS are not
// implemented in this build; storing plaintext for a client that asked for them would be
// worse than refusing, so such writes fail with 501 NotImplemented (after the validation S3
// itself does).

const (
	hdrSSE          = "x-amz-server-side-encryption"
	hdrSSEPrefix    = "x-amz-server-side-encryption-"
	hdrSSECPrefix   = "x-amz-server-side-encryption-customer-"
	hdrCopySSEC     = "x-amz-copy-source-server-side-encryption-customer-"
	hdrSSEKMSKeyID  = "x-amz-server-side-encryption-aws-kms-key-id"
	hdrSSEContext   = "x-amz-server-side-encryption-context"
	hdrSSEBucketKey = "x-amz-server-side-encryption-bucket-key-enabled"
)

var (
	errSSENotImplemented = &apiError{"NotImplemented", http.StatusNotImplemented, "Server-side encryption with AWS KMS keys (SSE-KMS, DSSE-KMS) is not supported by this server yet."}
	errSSECInsecure      = &apiError{"InvalidRequest", http.StatusBadRequest, "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection."}
	errSSEInvalidValue   = &apiError{"InvalidArgument", http.StatusBadRequest, "The encryption method specified is not supported"}
	errSSEKMSHeaders     = &apiError{"InvalidArgument", http.StatusBadRequest, "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms"}
	errSSEOnRead         = &apiError{"InvalidArgument", http.StatusBadRequest, "x-amz-server-side-encryption header is not supported for this operation."}
)

// hasHeaderPrefix reports a header whose lower-case name starts with prefix.
func hasHeaderPrefix(h http.Header, prefix string) bool {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), prefix) {
			return true
		}
	}
	return false
}

// checkSSEWrite reads the encryption a write (PutObject, POST, CreateMultipartUpload,
// CopyObject, UploadPart, UploadPartCopy) asks for. AES256 is SSE-S3; customer key headers
// are SSE-C (the caller destroys the key in the result); no header takes the bucket default;
// the modes not implemented yet are refused.
func checkSSEWrite(q *request) (object.SSE, error) {
	h := q.r.Header
	ssec := hasHeaderPrefix(h, hdrSSECPrefix) || hasHeaderPrefix(h, hdrCopySSEC)
	if ssec && q.r.TLS == nil {
		return object.SSE{}, errSSECInsecure
	}
	v := h.Get(hdrSSE)
	if v != "" && v != meta.SSES3 && v != meta.SSEKMS && v != meta.SSEKMSDSSE {
		return object.SSE{}, errSSEInvalidValue
	}
	kmsHeaders := h.Get(hdrSSEKMSKeyID) != "" || h.Get(hdrSSEContext) != ""
	if hasHeaderPrefix(h, hdrSSECPrefix) && (v != "" || kmsHeaders) {
		return object.SSE{}, errSSECIncompatible
	}
	switch {
	case v == meta.SSEKMS || v == meta.SSEKMSDSSE:
		return object.SSE{}, errSSENotImplemented
	case kmsHeaders:
		return object.SSE{}, errSSEKMSHeaders
	}
	ck, err := parseCustomerKey(q, hdrSSECPrefix)
	if err != nil {
		return object.SSE{}, err
	}
	if !ck.IsZero() {
		return object.SSE{Algorithm: meta.SSEC, CustomerKey: ck}, nil
	}
	return object.SSE{Algorithm: v}, nil
}

// checkSSERead reads the customer key of a GET, HEAD or GetObjectAttributes (zero for none;
// the caller destroys it) and refuses the other encryption headers: objects of the other
// modes decrypt without them.
func checkSSERead(q *request) (secret.Key, error) {
	h := q.r.Header
	if h.Get(hdrSSE) != "" || h.Get(hdrSSEKMSKeyID) != "" || h.Get(hdrSSEContext) != "" || h.Get(hdrSSEBucketKey) != "" {
		return secret.Key{}, errSSEOnRead
	}
	return parseCustomerKey(q, hdrSSECPrefix)
}

// setSSEHeaders reports how an object or upload is encrypted. A plaintext object from before
// encryption existed reports nothing. Only the algorithm is read: the record's sealed fields
// never reach the wire.
func setSSEHeaders(w http.ResponseWriter, enc *meta.Encryption) {
	if enc == nil {
		return
	}
	switch enc.Algorithm {
	case meta.SSES3:
		w.Header().Set(hdrSSE, meta.SSES3)
	case meta.SSEC:
		w.Header().Set(hdrSSECAlgorithm, sseCAlgorithm) // and the key's MD5: echoCustomerKey
	}
}
