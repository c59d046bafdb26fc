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
	"policy":            {"NoSuchBucketPolicy", http.StatusNotFound, "The bucket policy does not exist"},
	"cors":              {"NoSuchCORSConfiguration", http.StatusNotFound, "The CORS configuration does not exist"},
	"tagging":           {"NoSuchTagSet", http.StatusNotFound, "The TagSet does not exist"},
	"lifecycle":         {"NoSuchLifecycleConfiguration", http.StatusNotFound, "The lifecycle configuration does not exist"},
	"website":           {"NoSuchWebsiteConfiguration", http.StatusNotFound, "The specified bucket does not have a website configuration"},
	"replication":       {"ReplicationConfigurationNotFoundError", http.StatusNotFound, "The replication configuration was not found"},
	"object-lock":       {"ObjectLockConfigurationNotFoundError", http.StatusNotFound, "Object Lock configuration does not exist for this bucket"},
	"publicAccessBlock": {"NoSuchPublicAccessBlockConfiguration", http.StatusNotFound, "The public access block configuration was not found"},
	"policyStatus":      {"NoSuchBucketPolicy", http.StatusNotFound, "The bucket policy does not exist"},
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

// bucketSubresource answers a GET of a bucket sub-resource, or reports false if it is not one
// of those handled here.
func (h *Handler) bucketSubresource(q *request) (bool, error) {
	var name string
	for k := range q.query {
		if _, ok := notConfigured[k]; ok || bucketEmptyDocs[k] != "" || k == "requestPayment" {
			name = k
		}
	}
	if name == "" {
		return false, nil
	}
	if _, err := h.ownedBucket(q); err != nil {
		return true, err
	}
	if ae, ok := notConfigured[name]; ok {
		return true, ae
	}
	if name == "requestPayment" {
		return true, h.writeXML(q, http.StatusOK, requestPayment{NS: s3NS, Payer: "BucketOwner"})
	}
	return true, h.writeXML(q, http.StatusOK, emptyDoc{XMLName: xml.Name{Local: bucketEmptyDocs[name]}, NS: s3NS})
}

// bucketEmptyDocs are sub-resources S3 answers with an empty document when unset.
var bucketEmptyDocs = map[string]string{
	"logging":      "BucketLoggingStatus",
	"notification": "NotificationConfiguration",
	"accelerate":   "AccelerateConfiguration",
}

// objectSubresource answers GET ?tagging of an object.
func (h *Handler) objectSubresource(q *request) (bool, error) {
	if !q.has("tagging") {
		return false, nil
	}
	if _, err := h.ownedBucket(q); err != nil {
		return true, err
	}
	if _, err := h.objects.Head(q.r.Context(), q.bucket, q.key); err != nil {
		return true, err
	}
	return true, h.writeXML(q, http.StatusOK, tagging{NS: s3NS})
}
