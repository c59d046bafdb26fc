// Package s3api is the S3 wire layer: routing, authentication, XML shapes and the one table
// from error classes to S3 error codes. Object semantics live in package object.
package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/requestinfo"
	"github.com/coffer/coffer/internal/sigv4"
)

// Config wires a Handler.
type Config struct {
	Objects   *object.Service
	Verifier  *sigv4.Verifier
	Directory iam.Directory
	Region    string
	// Domains are the host names under which virtual-host-style requests arrive
	// (bucket.<domain>). Requests to any other host are path-style.
	Domains []string
	Logger  *slog.Logger
	// BodyIdleTimeout cuts a connection whose request or response body makes no progress for
	// this long (0: DefaultBodyIdleTimeout).
	BodyIdleTimeout time.Duration
	// Audit takes the records of management calls, and of the data calls it selects, kept
	// before each call is answered (audit.go); audit.Discard when nil.
	Audit audit.Recorder
}

// Handler serves the S3 API.
type Handler struct {
	objects *object.Service
	verify  *sigv4.Verifier
	dir     iam.Directory
	region  string
	domains []string
	log     *slog.Logger
	idle    time.Duration
	audit   audit.Recorder
}

// New returns the S3 handler.
func New(c Config) *Handler {
	h := &Handler{objects: c.Objects, verify: c.Verifier, dir: c.Directory, region: c.Region, domains: c.Domains, log: c.Logger, idle: c.BodyIdleTimeout, audit: c.Audit}
	if h.idle <= 0 {
		h.idle = DefaultBodyIdleTimeout
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.audit == nil {
		h.audit = audit.Discard{}
	}
	return h
}

// request is one S3 call being served.
type request struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	r         *http.Request
	id        string
	bucket    string
	key       string
	query     url.Values
	principal iam.Principal
	auth      *sigv4.Auth
	body      io.Reader
	vhost     bool // the bucket came from the host name
	// target is the bucket the request acts on, as the authorization that let it through read
	// it (zero for requests on no bucket).
	target object.Bucket
	// op is the operation the request was routed to; fail the error it is answered with, for
	// its audit record.
	op   operation
	fail *apiError
}

// ServeHTTP authenticates, routes and renders errors. The request id header must already be
// set by the caller (the front router) so every response carries it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := &request{w: w, rc: http.NewResponseController(w), r: r, id: w.Header().Get("x-amz-request-id"), query: r.URL.Query()}
	// A write deadline set for a slow body must not outlive this response on a kept-alive
	// connection (net/http resets only read deadlines between requests).
	defer q.rc.SetWriteDeadline(time.Time{})
	q.bucket, q.key, q.vhost = h.splitTarget(r)
	err := checkQuery(q.query)
	if err == nil {
		err = checkURIEncoding(q)
	}
	if err == nil {
		err = h.authenticate(q)
	}
	var op operation
	if err == nil {
		op, err = h.route(q)
	}
	if err == nil {
		h.watch(q, op)
	}
	if err == nil {
		err = h.authorize(q, op)
	}
	if err == nil {
		err = h.hideMissingKey(q, op, op.serve(q))
	}
	if err != nil {
		h.writeError(q, err)
	}
	h.finish(q)
	// The request body is left to net/http, which closes it only after flushing the response.
	// Closing it here, with the response still buffered, would drain a body that a client
	// sending Expect: 100-continue was never told to send, and both sides would wait.
}

func (h *Handler) authenticate(q *request) error {
	if isPostObject(q) {
		// A browser form carries its credentials in the body: postObject verifies them.
		q.body = idleReader{r: q.r.Body, rc: q.rc, d: h.idle}
		return nil
	}
	a, err := h.verify.Verify(q.r)
	if errors.Is(err, sigv4.ErrMissingAuth) {
		// An unsigned request is anonymous: only a bucket policy allowing "*" lets it through.
		h.identifyAnonymous(q)
		q.body = idleReader{r: q.r.Body, rc: q.rc, d: h.idle}
		return nil
	}
	if err != nil {
		return err
	}
	q.auth = a
	if a.Service != "s3" {
		return sigv4.ErrAuthHeaderMalformed
	}
	if a.SigV2 && q.vhost {
		// A SigV2 signature covers the path, not the host that names the bucket here: the
		// same URL could be replayed against another bucket.
		return fmt.Errorf("%w: signature version 2 with virtual-host-style addressing", sigv4.ErrSignatureDoesNotMatch)
	}
	p, ok := a.Owner.(iam.Principal)
	if !ok {
		return sigv4.ErrInvalidAccessKeyID
	}
	authType := iam.AuthHeader
	if a.Presigned {
		authType = iam.AuthQueryString
	}
	h.identify(q, a, p, authType)
	q.body = idleReader{r: a.Body, rc: q.rc, d: h.idle}
	return nil
}

// identify records the authenticated caller: the request identity (iam.Request) the services
// decide from and the audit trail records, and the caller on whose behalf SSE calls the KMS.
func (h *Handler) identify(q *request, a *sigv4.Auth, p iam.Principal, authType string) {
	q.principal = p
	version := iam.SigV4
	if a.SigV2 {
		version = iam.SigV2
	}
	ri := iam.NewRequest(p, q.r.RemoteAddr, q.r.TLS != nil, q.r.UserAgent(), q.id, h.region).Signed(authType, version, a.Date, a.ContentSHA256)
	ctx := iam.WithRequest(q.r.Context(), ri)
	q.r = q.r.WithContext(object.WithCaller(ctx, object.Caller{Account: p.AccountID, ARN: p.ARN}))
}

// identifyAnonymous records an unsigned request's caller: the anonymous principal.
func (h *Handler) identifyAnonymous(q *request) {
	q.principal = iam.Principal{Type: iam.PrincipalAnonymous}
	ri := iam.NewRequest(q.principal, q.r.RemoteAddr, q.r.TLS != nil, q.r.UserAgent(), q.id, h.region)
	q.r = q.r.WithContext(iam.WithRequest(q.r.Context(), ri))
}

// splitTarget finds the bucket and key in the host (virtual-host style) or path.
func (h *Handler) splitTarget(r *http.Request) (bucket, key string, vhost bool) {
	host := r.Host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.ToLower(host)
	path := r.URL.Path
	for _, d := range h.domains {
		if strings.HasSuffix(host, "."+d) {
			return strings.TrimSuffix(host, "."+d), strings.TrimPrefix(path, "/"), true
		}
	}
	path = strings.TrimPrefix(path, "/")
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key, false
}

// has reports whether the query names a sub-resource.
func (q *request) has(name string) bool { _, ok := q.query[name]; return ok }

// route resolves the operation a request asks for: the handler and the IAM action it needs.
// Unknown sub-resources answer NotImplemented rather than being mistaken for plain object or
// bucket calls.
func (h *Handler) route(q *request) (operation, error) {
	m := q.r.Method
	switch {
	case q.bucket == "":
		if m == http.MethodGet {
			return serviceOp("ListBuckets", "s3:ListAllMyBuckets", h.listBuckets), nil
		}
		return operation{}, errMethodNotAllowed
	case q.key == "":
		return h.routeBucket(q)
	}
	if v, ok := q.query["versionId"]; ok && v[0] != "null" {
		// Versioning is never enabled, so "null" is the only version id there is.
		return operation{}, errInvalidVersion
	}
	switch m {
	case http.MethodPut:
		switch {
		case q.has("encryption"):
			return objectOp("UpdateObjectEncryption", "s3:UpdateObjectEncryption", h.updateObjectEncryption), nil
		case q.has("partNumber") && q.has("uploadId") && q.r.Header.Get("x-amz-copy-source") != "":
			return objectOp("UploadPartCopy", "s3:PutObject", h.uploadPartCopy), nil
		case q.has("partNumber") && q.has("uploadId"):
			return objectOp("UploadPart", "s3:PutObject", h.uploadPart), nil
		case q.has("acl"):
			return objectOp("PutObjectAcl", "s3:PutObjectAcl", h.putObjectACL), nil
		case hasUnsupported(q.query, objectSubresources):
			return operation{}, errNotImplemented
		case q.r.Header.Get("x-amz-copy-source") != "":
			return objectOp("CopyObject", "s3:PutObject", h.copyObject), nil
		}
		return objectOp("PutObject", "s3:PutObject", h.putObject), nil
	case http.MethodGet, http.MethodHead:
		if q.has("uploadId") {
			if m == http.MethodHead {
				return operation{}, errMethodNotAllowed
			}
			return objectOp("ListParts", "s3:ListMultipartUploadParts", h.listParts), nil
		}
		if m == http.MethodGet {
			switch {
			case q.has("attributes"):
				return objectOp("GetObjectAttributes", "s3:GetObjectAttributes", h.getObjectAttributes), nil
			case q.has("acl"):
				return objectOp("GetObjectAcl", "s3:GetObjectAcl", h.getObjectACL), nil
			case q.has("tagging"):
				return objectOp("GetObjectTagging", "s3:GetObjectTagging", h.getObjectTagging), nil
			}
		}
		if hasUnsupported(q.query, objectSubresources) {
			return operation{}, errNotImplemented
		}
		if m == http.MethodHead {
			return objectOp("HeadObject", "s3:GetObject", h.headObject), nil
		}
		return objectOp("GetObject", "s3:GetObject", h.getObjectBody), nil
	case http.MethodDelete:
		if q.has("uploadId") {
			return objectOp("AbortMultipartUpload", "s3:AbortMultipartUpload", h.abortUpload), nil
		}
		if hasUnsupported(q.query, objectSubresources) {
			return operation{}, errNotImplemented
		}
		return objectOp("DeleteObject", "s3:DeleteObject", h.deleteObject), nil
	case http.MethodPost:
		switch {
		case q.has("uploads"):
			return objectOp("CreateMultipartUpload", "s3:PutObject", h.createUpload), nil
		case q.has("uploadId"):
			return objectOp("CompleteMultipartUpload", "s3:PutObject", h.completeUpload), nil
		}
		return operation{}, errNotImplemented
	}
	return operation{}, errMethodNotAllowed
}

func (h *Handler) routeBucket(q *request) (operation, error) {
	if op, ok := h.configOp(q); ok {
		return op, nil
	}
	m := q.r.Method
	switch m {
	case http.MethodPut:
		if hasUnsupported(q.query, nil) {
			return operation{}, errNotImplemented
		}
		return operation{name: "CreateBucket", action: "s3:CreateBucket", scope: scopeNewBucket, serve: h.createBucket}, nil
	case http.MethodHead:
		return bucketOp("HeadBucket", "s3:ListBucket", h.headBucket), nil
	case http.MethodDelete:
		if hasUnsupported(q.query, nil) {
			return operation{}, errNotImplemented
		}
		return bucketOp("DeleteBucket", "s3:DeleteBucket", h.deleteBucket), nil
	case http.MethodPost:
		switch {
		case q.has("delete"):
			// S3 decides DeleteObjects key by key: the handler asks for s3:DeleteObject on each.
			return operation{name: "DeleteObjects", action: "s3:DeleteObject", scope: scopeSelf, serve: h.deleteObjects}, nil
		case isPostObject(q):
			// The form carries the credentials: the handler authenticates, then authorizes.
			return operation{name: "PostObject", action: "s3:PutObject", scope: scopeSelf, serve: h.postObject}, nil
		case len(q.query) == 0:
			// A POST Object that is not a form: refused once the caller may write at all.
			return bucketOp("PostObject", "s3:PutObject", func(*request) error { return errPostEnclosure }), nil
		}
		return operation{}, errNotImplemented
	case http.MethodGet:
		switch {
		case q.has("location"):
			return bucketOp("GetBucketLocation", "s3:GetBucketLocation", h.getBucketLocation), nil
		case q.has("uploads"):
			return bucketOp("ListMultipartUploads", "s3:ListBucketMultipartUploads", h.listUploads), nil
		case q.has("versioning"):
			return bucketOp("GetBucketVersioning", "s3:GetBucketVersioning", h.getBucketVersioning), nil
		case q.has("versions"):
			if hasUnsupported(q.query, versionListParams) {
				return operation{}, errNotImplemented
			}
			return bucketOp("ListObjectVersions", "s3:ListBucketVersions", h.listObjectVersions), nil
		}
		if action, ok := unsetSubresource(q); ok {
			return bucketOp(subresourceEvent(q), action, h.bucketSubresource), nil
		}
		switch {
		case hasUnsupported(q.query, listParams):
			return operation{}, errNotImplemented
		case q.query.Get("list-type") == "2":
			return bucketOp("ListObjectsV2", "s3:ListBucket", h.listObjectsV2), nil
		}
		return bucketOp("ListObjects", "s3:ListBucket", h.listObjects), nil
	}
	return operation{}, errMethodNotAllowed
}

// Query parameters that are not sub-resources.
var (
	objectSubresources = map[string]bool{"versionId": true, "partNumber": true, "x-id": true,
		"response-content-type": true, "response-content-language": true, "response-expires": true,
		"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true}
	listParams = map[string]bool{"list-type": true, "prefix": true, "delimiter": true, "max-keys": true,
		"marker": true, "continuation-token": true, "start-after": true, "encoding-type": true,
		"fetch-owner": true, "x-id": true, "allow-unordered": true}
	versionListParams = map[string]bool{"versions": true, "prefix": true, "delimiter": true, "max-keys": true,
		"key-marker": true, "version-id-marker": true, "encoding-type": true, "x-id": true}
)

// checkQuery refuses a parameter given twice: SigV4 sorts repeated values, so their order is
// not covered by the signature, while the handlers read the first.
func checkQuery(query url.Values) error {
	for k, v := range query {
		if len(v) > 1 {
			return &apiError{"InvalidArgument", http.StatusBadRequest, "Query parameter " + k + " is given more than once."}
		}
	}
	return nil
}

// authParams are the query parameters of SigV2 presigned URLs.
var authParams = map[string]bool{"AWSAccessKeyId": true, "Signature": true, "Expires": true}

// hasUnsupported reports a query parameter that is neither allowed nor a presigning parameter.
func hasUnsupported(query url.Values, allowed map[string]bool) bool {
	for k := range query {
		if allowed[k] || authParams[k] || strings.HasPrefix(k, "X-Amz-") || strings.HasPrefix(k, "x-amz-") {
			continue
		}
		return true
	}
	return false
}

// writeXML renders a 200 response with an XML body.
func (h *Handler) writeXML(q *request, status int, v any) error {
	q.w.Header().Set("Content-Type", "application/xml")
	q.w.WriteHeader(status)
	io.WriteString(q.w, xml.Header)
	if err := xml.NewEncoder(q.w).Encode(v); err != nil {
		h.log.Warn("writing response failed", "request_id", q.id, "err", err)
	}
	return nil
}

// writeError renders err as an S3 error. HEAD responses carry no body.
func (h *Handler) writeError(q *request, err error) {
	ae, known := toAPIError(err)
	q.fail = ae
	requestinfo.SetErrorCode(q.r.Context(), ae.Code)
	switch {
	case !known && errors.Is(err, context.Canceled) && q.r.Context().Err() != nil:
		// The client went away mid-request (the store calls were cancelled with it): not a
		// fault of ours, and nobody reads the answer.
		h.log.Info("request cancelled by the client", "request_id", q.id, "method", q.r.Method, "bucket", q.bucket)
	case !known:
		h.log.Error("internal error", "request_id", q.id, "method", q.r.Method, "bucket", q.bucket, "err", err)
	default:
		h.log.Debug("request failed", "request_id", q.id, "code", ae.Code, "err", err)
	}
	if ae.Status == http.StatusNotModified {
		q.w.WriteHeader(ae.Status)
		return
	}
	// Headers a handler set for the success it did not reach (ETag, Content-Length, metadata)
	// must not describe the error.
	for k := range q.w.Header() {
		switch http.CanonicalHeaderKey(k) {
		case "X-Amz-Request-Id", "X-Amz-Id-2":
		default:
			delete(q.w.Header(), k)
		}
	}
	body := errorBody{Code: ae.Code, Message: ae.Message, Resource: q.r.URL.Path, RequestID: q.id, HostID: q.w.Header().Get("x-amz-id-2"), BucketName: q.bucket, Key: q.key}
	var re *sigv4.RegionError
	if errors.As(err, &re) {
		body.Region = re.Expected
	}
	if ae.Code == "InvalidRange" {
		var o *rangeError
		if errors.As(err, &o) {
			body.ActualObjectSize = itoa64(o.size)
		}
	}
	q.w.Header().Set("Content-Type", "application/xml")
	q.w.WriteHeader(ae.Status)
	if q.r.Method == http.MethodHead {
		return
	}
	io.WriteString(q.w, xml.Header)
	xml.NewEncoder(q.w).Encode(body)
}
