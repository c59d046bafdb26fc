package s3api

import (
	"net/http"
	"strings"

	"github.com/coffer/coffer/internal/object"
)

// Write options Coffer does not store yet. Accepting them would drop them silently, which for
// some (Object Lock retention) breaks a compliance promise, so each is refused the way S3
// refuses it for a bucket without the feature, or with NotImplemented where S3 would act.

var (
	errNoObjectLock = &apiError{"InvalidRequest", http.StatusBadRequest, "Bucket is missing Object Lock Configuration"}
	errObjectLockNI = &apiError{"NotImplemented", http.StatusNotImplemented, "Object Lock is not supported by this server yet."}
	errTaggingNI    = &apiError{"NotImplemented", http.StatusNotImplemented, "Object tagging is not supported by this server yet."}
	errRedirectNI   = &apiError{"NotImplemented", http.StatusNotImplemented, "Website redirect locations are not supported by this server."}
	errStorageClass = &apiError{"InvalidStorageClass", http.StatusBadRequest, "The storage class you specified is not valid"}
)

// checkObjectWriteOptions refuses object write options that would otherwise be dropped:
// Object Lock, tagging, website redirects, storage classes but STANDARD. (ACLs: checkWriteACL.)
func checkObjectWriteOptions(q *request) error {
	h := q.r.Header
	if hasHeaderPrefix(h, "x-amz-object-lock-") {
		return errNoObjectLock
	}
	if h.Get("x-amz-tagging") != "" {
		return errTaggingNI
	}
	if h.Get("x-amz-website-redirect-location") != "" {
		return errRedirectNI
	}
	if sc := h.Get("x-amz-storage-class"); sc != "" && sc != "STANDARD" {
		return errStorageClass
	}
	return nil
}

// checkNewObject refuses what a write creating an object (PUT, copy, multipart creation) asks
// for and Coffer does not do: encryption modes not implemented yet, then the options above.
// It returns the encryption the write asks for.
func checkNewObject(q *request) (object.SSE, error) {
	enc, err := checkSSEWrite(q)
	if err != nil {
		return object.SSE{}, err
	}
	return enc, checkObjectWriteOptions(q)
}

// checkBucketCreateOptions refuses bucket options Coffer cannot honour and returns the Object
// Ownership asked for ("" for the default).
func checkBucketCreateOptions(q *request) (ownership string, err error) {
	h := q.r.Header
	if strings.EqualFold(h.Get("x-amz-bucket-object-lock-enabled"), "true") {
		return "", errObjectLockNI
	}
	ownership = h.Get("x-amz-object-ownership")
	if ownership != "" && !object.ValidOwnership(ownership) {
		return "", &apiError{"InvalidArgument", http.StatusBadRequest, "Invalid x-amz-object-ownership header: " + ownership}
	}
	return ownership, checkCreateBucketACL(q, ownership)
}
