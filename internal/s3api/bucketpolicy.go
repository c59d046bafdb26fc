package s3api

import (
	"encoding/xml"
	"io"
	"net/http"

	"github.com/coffer/coffer/internal/object"
)

// Bucket policies (?policy, ?policyStatus) and Block Public Access (?publicAccessBlock). The
// object service validates and stores them; authorize enforces them on every request.

// maxPolicyBody bounds a PutBucketPolicy body before the 20 KB limit, which S3 counts without
// insignificant whitespace, is checked.
const maxPolicyBody = 256 << 10

func (h *Handler) putBucketPolicy(q *request) error {
	body, err := readSmallBody(q, maxPolicyBody)
	if err != nil {
		return err
	}
	// x-amz-confirm-remove-self-bucket-access asks S3 to accept a policy that locks the caller
	// out; Coffer never refuses such a policy, so there is nothing to confirm.
	if err := h.objects.PutBucketPolicy(q.r.Context(), q.bucket, string(body)); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) getBucketPolicy(q *request) error {
	if q.target.Policy == "" {
		return object.ErrNoSuchBucketPolicy
	}
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(http.StatusOK)
	io.WriteString(q.w, q.target.Policy)
	return nil
}

func (h *Handler) deleteBucketPolicy(q *request) error {
	if err := h.objects.DeleteBucketPolicy(q.r.Context(), q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

type policyStatus struct {
	XMLName  xml.Name `xml:"PolicyStatus"`
	NS       string   `xml:"xmlns,attr"`
	IsPublic bool     `xml:"IsPublic"`
}

func (h *Handler) getBucketPolicyStatus(q *request) error {
	public, err := h.objects.BucketPolicyIsPublic(q.target)
	if err != nil {
		return err
	}
	return h.writeXML(q, http.StatusOK, policyStatus{NS: s3NS, IsPublic: public})
}

// publicAccessBlockConfiguration is the XML of Get/PutPublicAccessBlock; a setting left out of
// a PUT is false.
type publicAccessBlockConfiguration struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	NS                    string   `xml:"xmlns,attr,omitempty"`
	BlockPublicAcls       bool     `xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool     `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool     `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets"`
}

func (h *Handler) putPublicAccessBlock(q *request) error {
	if err := requireBodyDigest(q); err != nil {
		return err
	}
	body, err := readSmallBody(q, 64<<10)
	if err != nil {
		return err
	}
	var c publicAccessBlockConfiguration
	if err := xml.Unmarshal(body, &c); err != nil {
		return errMalformedXML
	}
	err = h.objects.PutPublicAccessBlock(q.r.Context(), q.bucket, object.PublicAccessBlock{BlockPublicAcls: c.BlockPublicAcls,
		IgnorePublicAcls: c.IgnorePublicAcls, BlockPublicPolicy: c.BlockPublicPolicy, RestrictPublicBuckets: c.RestrictPublicBuckets})
	if err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getPublicAccessBlock(q *request) error {
	c := q.target.PublicAccessBlock
	if c == nil {
		return object.ErrNoSuchPublicAccessBlock
	}
	return h.writeXML(q, http.StatusOK, publicAccessBlockConfiguration{NS: s3NS, BlockPublicAcls: c.BlockPublicAcls,
		IgnorePublicAcls: c.IgnorePublicAcls, BlockPublicPolicy: c.BlockPublicPolicy, RestrictPublicBuckets: c.RestrictPublicBuckets})
}

func (h *Handler) deletePublicAccessBlock(q *request) error {
	if err := h.objects.DeletePublicAccessBlock(q.r.Context(), q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
