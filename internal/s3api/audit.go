package s3api

import (
	"crypto/tls"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/requestinfo"
)

// The audit trail of S3 calls. Management events (bucket- and service-level operations) are
// always recorded; data events (object-level operations) only when a trail selects them
// (Recorder.WantsData). S3 handlers write their own answers, so the record is made when the
// answer starts — the first WriteHeader or Write — and kept before anything goes out: a call
// whose record cannot be kept answers 500 InternalError instead. Calls that are not
// authenticated (no principal) or not routed (no operation) are not recorded; AccessDenied
// for a known caller is.

// errNotRecorded ends the body of an answer replaced because its record could not be kept.
var errNotRecorded = errors.New("s3api: the audit record of the request could not be kept")

// auditWriter is the ResponseWriter of a call to record: it records the call on the first
// WriteHeader or Write.
type auditWriter struct {
	http.ResponseWriter
	h      *Handler
	q      *request
	done   bool // the record was made, or not needed
	failed bool // recording failed: the 500 was written in place of the answer
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *auditWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *auditWriter) WriteHeader(status int) {
	if !w.done {
		w.done = true
		if err := w.h.recordCall(w.q); err != nil {
			w.failed = true
			w.h.log.Error("request not answered: its audit record failed", "request_id", w.q.id, "op", w.q.op.name, "err", err)
			w.h.writeUnrecorded(w.q, w.ResponseWriter)
			return
		}
	}
	if !w.failed {
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *auditWriter) Write(p []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return 0, errNotRecorded
	}
	return w.ResponseWriter.Write(p)
}

// watch makes q's answer wait for its record once q is routed to op.
func (h *Handler) watch(q *request, op operation) {
	q.op = op
	requestinfo.SetOperation(q.r.Context(), op.name)
	q.w = &auditWriter{ResponseWriter: q.w, h: h, q: q}
}

// finish records a call whose handler wrote nothing (net/http would answer 200 by itself,
// past the recording writer) by starting its 200 answer here.
func (h *Handler) finish(q *request) {
	if w, ok := q.w.(*auditWriter); ok && !w.done {
		w.WriteHeader(http.StatusOK)
	}
}

// writeUnrecorded answers 500 InternalError on w, in place of an answer whose record failed.
func (h *Handler) writeUnrecorded(q *request, w http.ResponseWriter) {
	for k := range w.Header() {
		switch http.CanonicalHeaderKey(k) {
		case "X-Amz-Request-Id", "X-Amz-Id-2":
		default:
			delete(w.Header(), k)
		}
	}
	requestinfo.SetErrorCode(q.r.Context(), "InternalError")
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusInternalServerError)
	if q.r.Method == http.MethodHead {
		return
	}
	io.WriteString(w, xml.Header)
	xml.NewEncoder(w).Encode(errorBody{Code: "InternalError", Message: "We encountered an internal error. Please try again.",
		Resource: q.r.URL.Path, RequestID: q.id, HostID: w.Header().Get("x-amz-id-2")})
}

// dataEvent reports whether op is an object-level operation: a data event for CloudTrail.
func (op operation) dataEvent() bool {
	return op.scope == scopeObject || op.name == "DeleteObjects" || op.name == "PostObject"
}

// recordCall records a routed call as its answer starts. A data event no trail
// selects, and a call whose caller never authenticated, are not recorded.
func (h *Handler) recordCall(q *request) error {
	r := iam.RequestFrom(q.r.Context())
	if r == nil || q.principal.Type == "" {
		return nil
	}
	owner := q.target.Owner
	if owner == "" {
		owner = q.principal.AccountID
	}
	readOnly := q.r.Method == http.MethodGet || q.r.Method == http.MethodHead
	data := q.op.dataEvent()
	bucketARN := "arn:aws:s3:::" + q.bucket
	objectARN := bucketARN + "/" + q.key
	if data && !h.audit.WantsData(owner, objectARN, readOnly) && !h.wantsForCaller(q, owner, objectARN, readOnly) {
		return nil
	}
	e := audit.NewEvent(r, audit.SourceS3, q.op.name)
	if e.UserAgent != "" {
		e.UserAgent = "[" + e.UserAgent + "]" // as CloudTrail shows S3 callers' user agents
	}
	e.ReadOnly = readOnly
	if owner != "" {
		e.RecipientAccountID = owner
	}
	if data {
		e.ManagementEvent, e.EventCategory = false, audit.CategoryData
	}
	e.TLSDetails = audit.TLS(q.r.TLS, q.r.Host)
	e.RequestParameters = s3RequestParameters(q)
	e.AdditionalEventData = h.additionalEventData(q)
	if q.fail != nil {
		e.Fail(q.fail.Code, q.fail.Message)
	} else {
		e.ResponseElements = sseResponseElements(q.w.Header())
	}
	switch {
	case q.bucket == "":
	case data && q.key != "":
		e.Resources = []audit.Resource{{Type: "AWS::S3::Object", ARN: objectARN}, {AccountID: owner, Type: "AWS::S3::Bucket", ARN: bucketARN}}
	default:
		e.Resources = []audit.Resource{{AccountID: owner, Type: "AWS::S3::Bucket", ARN: bucketARN}}
	}
	return h.audit.Record(q.r.Context(), e)
}

// wantsForCaller reports whether a trail of the caller's account, when it is not the
// bucket owner's, selects the data event: CloudTrail delivers a cross-account data event to
// the requester's trails as well as the owner's (the record is kept for both accounts).
func (h *Handler) wantsForCaller(q *request, owner, objectARN string, readOnly bool) bool {
	caller := q.principal.AccountID
	return caller != "" && caller != owner && q.principal.Type != iam.PrincipalAnonymous && h.audit.WantsData(caller, objectARN, readOnly)
}

// loggedHeaders are the request headers an S3 record shows among its requestParameters.
// The SSE-C key and its MD5 (of the request or of a copy source) are never among them.
var loggedHeaders = []string{"x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
	"x-amz-server-side-encryption-bucket-key-enabled", "x-amz-server-side-encryption-customer-algorithm",
	"x-amz-copy-source", "x-amz-acl", "x-amz-storage-class", "x-amz-object-ownership", "x-amz-metadata-directive",
	"x-amz-checksum-algorithm", "x-amz-sdk-checksum-algorithm"}

// unloggedQuery are the query parameters an S3 record never shows: the signature and the
// credentials of presigned URLs.
func unloggedQuery(k string) bool {
	return strings.HasPrefix(strings.ToLower(k), "x-amz-") || k == "Signature" || k == "AWSAccessKeyId" || k == "Expires"
}

// s3RequestParameters returns what an S3 record shows of a request: the bucket, key and Host,
// the query parameters (sub-resources as "", as CloudTrail shows them) and the SSE, ACL and
// copy headers. Bodies (objects, policies, configurations) are never in it.
func s3RequestParameters(q *request) map[string]any {
	p := map[string]any{"Host": q.r.Host}
	if q.bucket != "" {
		p["bucketName"] = q.bucket
	}
	if q.key != "" {
		p["key"] = q.key
	}
	for k, v := range q.query {
		if !unloggedQuery(k) && len(v) > 0 {
			p[k] = v[0]
		}
	}
	for _, hd := range loggedHeaders {
		if v := q.r.Header.Get(hd); v != "" {
			p[hd] = v
		}
	}
	return p
}

// additionalEventData is CloudTrail's S3 additionalEventData: how the request was signed, its
// TLS cipher suite, the bytes in and out, and the host id.
func (h *Handler) additionalEventData(q *request) map[string]any {
	out := bytesOut(q.w.Header())
	if q.r.Method == http.MethodHead {
		out = 0
	}
	d := map[string]any{"bytesTransferredIn": bytesIn(q.r), "bytesTransferredOut": out, "x-amz-id-2": q.w.Header().Get("x-amz-id-2")}
	if q.auth != nil {
		d["SignatureVersion"] = "SigV4"
		if q.auth.SigV2 {
			d["SignatureVersion"] = "SigV2"
		}
		d["AuthenticationMethod"] = "AuthHeader"
		if q.auth.Presigned {
			d["AuthenticationMethod"] = "QueryString"
		}
	}
	if q.r.TLS != nil {
		d["CipherSuite"] = tls.CipherSuiteName(q.r.TLS.CipherSuite)
	}
	return d
}

// bytesIn is the size of the request's payload (the decoded size of an aws-chunked body).
func bytesIn(r *http.Request) int64 {
	if v := r.Header.Get("x-amz-decoded-content-length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	if r.ContentLength > 0 {
		return r.ContentLength
	}
	return 0
}

// bytesOut is the size of the answer's body as its headers announce it (the record is made
// before the body is sent).
func bytesOut(hd http.Header) int64 {
	n, err := strconv.ParseInt(hd.Get("Content-Length"), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// sseResponseElements are the encryption headers of a successful answer, as CloudTrail shows
// them for writes; null when there are none. The SSE-C key MD5 is not among them.
func sseResponseElements(hd http.Header) map[string]any {
	var m map[string]any
	for _, k := range []string{"x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
		"x-amz-server-side-encryption-bucket-key-enabled", "x-amz-server-side-encryption-customer-algorithm"} {
		if v := hd.Get(k); v != "" {
			if m == nil {
				m = map[string]any{}
			}
			m[k] = v
		}
	}
	return m
}

// subresourceEvents name the GETs of the bucket sub-resources Coffer does not store.
var subresourceEvents = map[string]string{
	"cors": "GetBucketCors", "tagging": "GetBucketTagging", "lifecycle": "GetBucketLifecycle",
	"website": "GetBucketWebsite", "replication": "GetBucketReplication", "object-lock": "GetObjectLockConfiguration",
	"logging": "GetBucketLogging", "notification": "GetBucketNotification", "accelerate": "GetBucketAccelerateConfiguration",
	"requestPayment": "GetBucketRequestPayment",
}

// subresourceEvent returns the operation name of a GET of an unstored bucket sub-resource.
func subresourceEvent(q *request) string {
	for k := range q.query {
		if n, ok := subresourceEvents[k]; ok {
			return n
		}
	}
	return ""
}
