package s3api

import (
	"encoding/xml"
	"net/http"
)

// Reads of bucket and object configuration that Coffer does not store yet. Tools read all of
// them (Terraform refreshes every one of a bucket's), so each answers as S3 does for a bucket
// or object that has none: a "not configured" error or an empty document. Writes stay
// NotImplemented until the feature lands, so nothing is silently dropped.

// notConfigured maps a bucket sub-resource to the 404 S3 gives when it was never set.
var notConfigured = map[string]*apiError{
	"cors":        {"NoSuchCORSConfiguration", http.StatusNotFound, "The CORS configuration does not exist"},
	"tagging":     {"NoSuchTagSet", http.StatusNotFound, "The TagSet does not exist"},
	"lifecycle":   {"NoSuchLifecycleConfiguration", http.StatusNotFound, "The lifecycle configuration does not exist"},
	"website":     {"NoSuchWebsiteConfiguration", http.StatusNotFound, "The specified bucket does not have a website configuration"},
	"replication": {"ReplicationConfigurationNotFoundError", http.StatusNotFound, "The replication configuration was not found"},
	"object-lock": {"ObjectLockConfigurationNotFoundError", http.StatusNotFound, "Object Lock configuration does not exist for this bucket"},
}

type emptyDoc struct {
	XMLName xml.Name
	NS      string `xml:"xmlns,attr"`
}

type requestPayment struct {
	XMLName xml.Name `xml:"RequestPaymentConfiguration"`
	NS      string   `xml:"xmlns,attr"`
	Payer   string   `xml:"Payer"`
}

type tagging struct {
	XMLName xml.Name   `xml:"Tagging"`
	NS      string     `xml:"xmlns,attr"`
	TagSet  []struct{} `xml:"TagSet>Tag"`
}

// subresourceReads are the IAM actions of the GETs of the sub-resources answered here.
var subresourceReads = map[string]string{
	"cors":           "s3:GetBucketCORS",
	"tagging":        "s3:GetBucketTagging",
	"lifecycle":      "s3:GetLifecycleConfiguration",
	"website":        "s3:GetBucketWebsite",
	"replication":    "s3:GetReplicationConfiguration",
	"object-lock":    "s3:GetBucketObjectLockConfiguration",
	"logging":        "s3:GetBucketLogging",
	"notification":   "s3:GetBucketNotification",
	"accelerate":     "s3:GetAccelerateConfiguration",
	"requestPayment": "s3:GetBucketRequestPayment",
}

// unsetSubresource returns the action of a GET of a sub-resource answered by
// bucketSubresource, or false if the request is not one.
func unsetSubresource(q *request) (string, bool) {
	for k := range q.query {
		if a, ok := subresourceReads[k]; ok {
			return a, true
		}
	}
	return "", false
}

// bucketSubresource answers a GET of a bucket sub-resource that Coffer does not store.
func (h *Handler) bucketSubresource(q *request) error {
	var name string
	for k := range q.query {
		if _, ok := subresourceReads[k]; ok {
			name = k
		}
	}
	if ae, ok := notConfigured[name]; ok {
		return ae
	}
	if name == "requestPayment" {
		return h.writeXML(q, http.StatusOK, requestPayment{NS: s3NS, Payer: "BucketOwner"})
	}
	return h.writeXML(q, http.StatusOK, emptyDoc{XMLName: xml.Name{Local: bucketEmptyDocs[name]}, NS: s3NS})
}

// bucketEmptyDocs are sub-resources S3 answers with an empty document when unset.
var bucketEmptyDocs = map[string]string{
	"logging":      "BucketLoggingStatus",
	"notification": "NotificationConfiguration",
	"accelerate":   "AccelerateConfiguration",
}

// getObjectTagging answers GET ?tagging of an object: an empty tag set.
func (h *Handler) getObjectTagging(q *request) error {
	if _, err := h.objects.Head(q.r.Context(), q.bucket, q.key); err != nil {
		return err
	}
	return h.writeXML(q, http.StatusOK, tagging{NS: s3NS})
}
