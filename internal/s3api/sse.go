package s3api

import (
	"net/http"
	"strings"
)

// Server-side encryption is not implemented in this build. Storing plaintext for a client that
// asked for encryption would be worse than refusing, so requests that name SSE fail: writes
// with 501 NotImplemented (after the validation S3 itself does), reads with the 400s S3 gives
// for encryption headers on an unencrypted object.

const (
	hdrSSE        = "x-amz-server-side-encryption"
	hdrSSEPrefix  = "x-amz-server-side-encryption-"
	hdrSSECPrefix = "x-amz-server-side-encryption-customer-"
	hdrCopySSEC   = "x-amz-copy-source-server-side-encryption-customer-"
)

var (
	errSSENotImplemented = &apiError{"NotImplemented", http.StatusNotImplemented, "Server-side encryption (SSE-S3, SSE-KMS, SSE-C) is not supported by this server yet."}
	errSSECInsecure      = &apiError{"InvalidRequest", http.StatusBadRequest, "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection."}
	errSSEInvalidValue   = &apiError{"InvalidArgument", http.StatusBadRequest, "The encryption method specified is not supported"}
	errSSEOnRead         = &apiError{"InvalidArgument", http.StatusBadRequest, "x-amz-server-side-encryption header is not supported for this operation."}
	errSSECNotApplicable = &apiError{"InvalidRequest", http.StatusBadRequest, "The encryption parameters are not applicable to this object."}
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

// checkSSEWrite refuses a write (PutObject, CreateMultipartUpload, CopyObject, UploadPart,
// UploadPartCopy) that asks for server-side encryption.
func checkSSEWrite(q *request) error {
	h := q.r.Header
	ssec := hasHeaderPrefix(h, hdrSSECPrefix) || hasHeaderPrefix(h, hdrCopySSEC)
	if ssec && q.r.TLS == nil {
		return errSSECInsecure
	}
	if v := h.Get(hdrSSE); v != "" && v != "AES256" && v != "aws:kms" && v != "aws:kms:dsse" {
		return errSSEInvalidValue
	}
	if ssec || h.Get(hdrSSE) != "" || hasHeaderPrefix(h, hdrSSEPrefix) {
		return errSSENotImplemented
	}
	return nil
}

// checkSSERead refuses encryption headers on GET and HEAD: every stored object is unencrypted.
func checkSSERead(q *request) error {
	h := q.r.Header
	if hasHeaderPrefix(h, hdrSSECPrefix) {
		if q.r.TLS == nil {
			return errSSECInsecure
		}
		return errSSECNotApplicable
	}
	if h.Get(hdrSSE) != "" || hasHeaderPrefix(h, hdrSSEPrefix) {
		return errSSEOnRead
	}
	return nil
}
