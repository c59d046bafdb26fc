// Package s3api is the S3 wire layer: routing, authentication, XML shapes and the one table
// from error classes to S3 error codes. Object semantics live in package object.
package s3api

import (
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

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/object"
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
}

// New returns the S3 handler.
func New(c Config) *Handler {
	h := &Handler{objects: c.Objects, verify: c.Verifier, dir: c.Directory, region: c.Region, domains: c.Domains, log: c.Logger, idle: c.BodyIdleTimeout}
	if h.idle <= 0 {
		h.idle = DefaultBodyIdleTimeout
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
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
	if err == nil {
		err = h.route(q)
	}
	if err != nil {
		h.writeError(q, err)
	}
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
	now := time.Now()
	ri := &iam.Request{
		Principal:        p,
		SourceIP:         iam.ClientIP(q.r.RemoteAddr),
		SecureTransport:  q.r.TLS != nil,
		AuthType:         authType,
		SignatureVersion: iam.SigV4,
		SignatureAge:     now.Sub(a.Date),
		ContentSHA256:    a.ContentSHA256,
		RequestID:        q.id,
		UserAgent:        q.r.UserAgent(),
		Time:             now,
		Region:           h.region,
	}
	if a.SigV2 {
		ri.SignatureVersion = iam.SigV2
	}
	ctx := iam.WithRequest(q.r.Context(), ri)
	q.r = q.r.WithContext(object.WithCaller(ctx, object.Caller{Account: p.AccountID, ARN: p.ARN}))
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

// route dispatches to the operation. Unknown sub-resources answer NotImplemented rather than
// being mistaken for plain object or bucket calls.
func (h *Handler) route(q *request) error {
	m := q.r.Method
	switch {
	case q.bucket == "":
		if m == http.MethodGet {
			return h.listBuckets(q)
		}
		return errMethodNotAllowed
	case q.key == "":
		return h.routeBucket(q)
	}
	if v, ok := q.query["versionId"]; ok && v[0] != "null" {
		// Versioning is never enabled, so "null" is the only version id there is.
		return errInvalidVersion
	}
	switch m {
	case http.MethodPut:
		switch {
		case q.has("encryption"):
			return h.updateObjectEncryption(q)
		case q.has("partNumber") && q.has("uploadId") && q.r.Header.Get("x-amz-copy-source") != "":
			return h.uploadPartCopy(q)
		case q.has("partNumber") && q.has("uploadId"):
			return h.uploadPart(q)
		case q.has("acl"):
			return h.putObjectACL(q)
		case hasUnsupported(q.query, objectSubresources):
			return errNotImplemented
		case q.r.Header.Get("x-amz-copy-source") != "":
			return h.copyObject(q)
		}
		return h.putObject(q)
	case http.MethodGet, http.MethodHead:
		if q.has("uploadId") {
			if m == http.MethodHead {
				return errMethodNotAllowed
			}
			return h.listParts(q)
		}
		if m == http.MethodGet {
			if q.has("attributes") {
				return h.getObjectAttributes(q)
			}
			if q.has("acl") {
				return h.getObjectACL(q)
			}
			if ok, err := h.objectSubresource(q); ok {
				return err
			}
		}
		if hasUnsupported(q.query, objectSubresources) {
			return errNotImplemented
		}
		return h.getObject(q, m == http.MethodHead)
	case http.MethodDelete:
		if q.has("uploadId") {
			return h.abortUpload(q)
		}
		if hasUnsupported(q.query, objectSubresources) {
			return errNotImplemented
		}
		return h.deleteObject(q)
	case http.MethodPost:
		switch {
		case q.has("uploads"):
			return h.createUpload(q)
		case q.has("uploadId"):
			return h.completeUpload(q)
		}
		return errNotImplemented
	}
	return errMethodNotAllowed
}

func (h *Handler) routeBucket(q *request) error {
	if q.has("encryption") {
		switch q.r.Method {
		case http.MethodGet:
			return h.getBucketEncryption(q)
		case http.MethodPut:
			return h.putBucketEncryption(q)
		case http.MethodDelete:
			return h.deleteBucketEncryption(q)
		}
	}
	switch q.r.Method {
	case http.MethodPut:
		switch {
		case q.has("acl"):
			return h.putBucketACL(q)
		case q.has("ownershipControls"):
			return h.putOwnershipControls(q)
		case hasUnsupported(q.query, nil):
			return errNotImplemented
		}
		return h.createBucket(q)
	case http.MethodHead:
		return h.headBucket(q)
	case http.MethodDelete:
		if q.has("ownershipControls") {
			return h.deleteOwnershipControls(q)
		}
		if hasUnsupported(q.query, nil) {
			return errNotImplemented
		}
		return h.deleteBucket(q)
	case http.MethodPost:
		if q.has("delete") {
			return h.deleteObjects(q)
		}
		if isPostObject(q) {
			return h.postObject(q)
		}
		if len(q.query) == 0 {
			return errPostEnclosure
		}
		return errNotImplemented
	case http.MethodGet:
		switch {
		case q.has("location"):
			return h.getBucketLocation(q)
		case q.has("uploads"):
			return h.listUploads(q)
		case q.has("versioning"):
			return h.getBucketVersioning(q)
		case q.has("acl"):
			return h.getBucketACL(q)
		case q.has("ownershipControls"):
			return h.getOwnershipControls(q)
		case q.has("versions"):
			if hasUnsupported(q.query, versionListParams) {
				return errNotImplemented
			}
			return h.listObjectVersions(q)
		}
		if ok, err := h.bucketSubresource(q); ok {
			return err
		}
		switch {
		case hasUnsupported(q.query, listParams):
			return errNotImplemented
		case q.query.Get("list-type") == "2":
			return h.listObjectsV2(q)
		}
		return h.listObjects(q)
	}
	return errMethodNotAllowed
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
	if !known {
		h.log.Error("internal error", "request_id", q.id, "method", q.r.Method, "bucket", q.bucket, "err", err)
	} else {
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
