package s3api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
)

// Server-side encryption on the wire. Every object is encrypted: SSE-S3 (AES256) is every
// bucket's default; SSE-KMS (aws:kms) and DSSE-KMS (aws:kms:dsse) use the built-in KMS as the
// requester; SSE-C (customer key headers) is in ssec.go.

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
	errSSECInsecure      = &apiError{"InvalidRequest", http.StatusBadRequest, "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection."}
	errSSEInvalidValue   = &apiError{"InvalidArgument", http.StatusBadRequest, "The encryption method specified is not supported"}
	errSSEKMSHeaders     = &apiError{"InvalidArgument", http.StatusBadRequest, "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms"}
	errSSEKMSSigV4       = &apiError{"InvalidArgument", http.StatusBadRequest, "Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4."}
	errSSEContext        = &apiError{"InvalidArgument", http.StatusBadRequest, "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map"}
	errSSEBucketKeyValue = &apiError{"InvalidArgument", http.StatusBadRequest, "The header 'x-amz-server-side-encryption-bucket-key-enabled' must be true or false"}
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

// isKMS reports the KMS algorithms.
func isKMS(alg string) bool { return alg == object.SSEKMS || alg == object.SSEKMSDSSE }

// checkSSEWrite reads the encryption a write (PutObject, POST, CreateMultipartUpload,
// CopyObject, UploadPart, UploadPartCopy) asks for. AES256 is SSE-S3, aws:kms SSE-KMS,
// aws:kms:dsse DSSE-KMS; customer key headers are SSE-C (the caller destroys the key in the
// result); no header takes the bucket default.
func checkSSEWrite(q *request) (object.SSE, error) {
	h := q.r.Header
	ssec := hasHeaderPrefix(h, hdrSSECPrefix) || hasHeaderPrefix(h, hdrCopySSEC)
	if ssec && q.r.TLS == nil {
		return object.SSE{}, errSSECInsecure
	}
	v := h.Get(hdrSSE)
	if v != "" && v != object.SSES3 && !isKMS(v) {
		return object.SSE{}, errSSEInvalidValue
	}
	keyID, rawCtx := h.Get(hdrSSEKMSKeyID), h.Get(hdrSSEContext)
	if hasHeaderPrefix(h, hdrSSECPrefix) && (v != "" || keyID != "" || rawCtx != "") {
		return object.SSE{}, errSSECIncompatible
	}
	switch {
	case !isKMS(v) && (keyID != "" || rawCtx != ""):
		return object.SSE{}, errSSEKMSHeaders
	case !isKMS(v):
		return checkSSENoKMS(q, v)
	case q.auth != nil && q.auth.SigV2:
		return object.SSE{}, errSSEKMSSigV4
	}
	out := object.SSE{Algorithm: v, KMSKeyID: keyID}
	if rawCtx != "" {
		ec, err := parseEncryptionContext(rawCtx)
		if err != nil {
			return object.SSE{}, err
		}
		out.Context = ec
	}
	if bk := h.Get(hdrSSEBucketKey); bk != "" {
		on, err := parseBool(bk)
		if err != nil {
			return object.SSE{}, errSSEBucketKeyValue
		}
		out.BucketKey = &on
	}
	return out, nil
}

// checkSSENoKMS reads the encryption of a write that names no KMS mode: SSE-C when customer
// key headers are present, else AES256 or the bucket default.
func checkSSENoKMS(q *request, v string) (object.SSE, error) {
	ck, err := parseCustomerKey(q, hdrSSECPrefix)
	if err != nil {
		return object.SSE{}, err
	}
	if !ck.IsZero() {
		return object.SSE{Algorithm: object.SSEC, CustomerKey: ck}, nil
	}
	return object.SSE{Algorithm: v}, nil
}

// parseEncryptionContext reads x-amz-server-side-encryption-context: base64 of a UTF-8 JSON
// object of string values.
func parseEncryptionContext(v string) (map[string]string, error) {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, errSSEContext
	}
	var ec map[string]string
	if err := json.Unmarshal(raw, &ec); err != nil || ec == nil {
		return nil, errSSEContext
	}
	return ec, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errSSEBucketKeyValue
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

// checkKMSRead refuses a read of a KMS-protected object that is not signed with SigV4, as
// S3 does ("All GET and PUT requests for an object protected by AWS KMS fail if you don't
// make them by using SSL/TLS or Signature Version 4"; S3 answers SigV2 with this error).
func checkKMSRead(q *request, enc *object.Encryption) error {
	if enc != nil && isKMS(enc.Algorithm) && q.auth != nil && q.auth.SigV2 {
		return errSSEKMSSigV4
	}
	return nil
}

// refuseSigV2KMSRead refuses a SigV2 request that reads the KMS-protected object bucket/key (a
// GET, or the source of CopyObject and UploadPartCopy) before the object is opened, so no KMS
// call unwraps a key for a request that must fail. The object may change before it is opened;
// checkKMSRead on what was opened still decides.
func (h *Handler) refuseSigV2KMSRead(q *request, bucket, key string) error {
	if q.auth == nil || !q.auth.SigV2 {
		return nil
	}
	o, err := h.objects.Head(q.r.Context(), bucket, key)
	if err != nil {
		return nil // opening the object reports it
	}
	return checkKMSRead(q, o.Encryption)
}

// setSSEHeaders reports how an object or upload is encrypted. A plaintext object from before
// encryption existed reports nothing. object.Encryption holds only what S3 reports (the
// algorithm, the KMS key ARN, whether a bucket key is used): no key material can reach the wire.
func setSSEHeaders(w http.ResponseWriter, enc *object.Encryption) {
	if enc == nil {
		return
	}
	hd := w.Header()
	switch enc.Algorithm {
	case object.SSES3:
		hd.Set(hdrSSE, object.SSES3)
	case object.SSEKMS, object.SSEKMSDSSE:
		hd.Set(hdrSSE, enc.Algorithm)
		hd.Set(hdrSSEKMSKeyID, enc.KMSKeyARN)
		if enc.BucketKeyEnabled {
			hd.Set(hdrSSEBucketKey, "true")
		}
	case object.SSEC:
		hd.Set(hdrSSECAlgorithm, sseCAlgorithm) // and the key's MD5: echoCustomerKey
	}
}

// setSSEContextHeader echoes the encryption context of a KMS write (PutObject, CopyObject,
// CreateMultipartUpload): the client's pairs and the aws:s3:arn S3 added, base64 JSON.
func setSSEContextHeader(w http.ResponseWriter, enc *object.Encryption, bucket, key string) {
	if enc == nil || !isKMS(enc.Algorithm) {
		return
	}
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::" + bucket + "/" + key}
	if enc.BucketKeyEnabled {
		ec["aws:s3:arn"] = "arn:aws:s3:::" + bucket
	}
	for k, v := range enc.Context {
		ec[k] = v
	}
	raw, err := json.Marshal(ec)
	if err != nil {
		return
	}
	w.Header().Set(hdrSSEContext, base64.StdEncoding.EncodeToString(raw))
}
