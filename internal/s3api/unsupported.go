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
	errACLs         = &apiError{"AccessControlListNotSupported", http.StatusBadRequest, "The bucket does not allow ACLs"}
	errBucketACLs   = &apiError{"InvalidBucketAclWithObjectOwnership", http.StatusBadRequest, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"}
	errStorageClass = &apiError{"InvalidStorageClass", http.StatusBadRequest, "The storage class you specified is not valid"}
)

// ownerOnlyCannedACL reports whether a canned ACL grants nothing beyond the owner's control,
// the only ACLs S3 accepts under its default "bucket owner enforced" ownership.
func ownerOnlyCannedACL(acl string) bool {
	return acl == "" || acl == "private" || acl == "bucket-owner-full-control"
}

func hasGrantHeader(h http.Header) bool { return hasHeaderPrefix(h, "x-amz-grant-") }

// checkObjectWriteOptions refuses object write options that would otherwise be dropped:
// Object Lock, tagging, website redirects, ACLs that grant others, storage classes but STANDARD.
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
	if !ownerOnlyCannedACL(h.Get("x-amz-acl")) || hasGrantHeader(h) {
		return errACLs
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

// checkBucketCreateOptions refuses bucket options Coffer cannot honour.
func checkBucketCreateOptions(q *request) error {
	h := q.r.Header
	if strings.EqualFold(h.Get("x-amz-bucket-object-lock-enabled"), "true") {
		return errObjectLockNI
	}
	if !ownerOnlyCannedACL(h.Get("x-amz-acl")) || hasGrantHeader(h) {
		return errBucketACLs
	}
	if o := h.Get("x-amz-object-ownership"); o != "" && o != "BucketOwnerEnforced" {
		return &apiError{"NotImplemented", http.StatusNotImplemented, "Only the BucketOwnerEnforced object ownership is supported."}
	}
	return nil
}
