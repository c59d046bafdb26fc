package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/coffer/coffer/internal/requestinfo"
	"github.com/coffer/coffer/internal/trailapi"
)

// front routes each request to the S3, KMS, IAM/STS or CloudTrail wire layer, gives every response its
// request id, and turns a panic (a bug, or a damaged page of meta.db read through bbolt's mmap) into a
// logged 500 instead of a dead connection or process.
type front struct {
	s3  http.Handler
	kms http.Handler
	iam http.Handler // IAM and STS
	// cloudtrail is CloudTrail's API.
	cloudtrail http.Handler
	log        *slog.Logger
	metrics    *serverMetrics // nil to keep none
}

// wire layers, as front routes them.
const (
	routeS3 = iota
	routeKMS
	routeIAM
	routeCloudTrail
)

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := newRequestID()
	w.Header().Set("x-amz-request-id", id)
	w.Header().Set("x-amz-id-2", id)
	route := f.route(r)
	// A fault reading bbolt's mmap becomes a panic, recovered below. The setting belongs to
	// this goroutine (net/http's, for this connection) and is harmless for its later requests.
	debug.SetPanicOnFault(true)
	info := &requestinfo.Info{ID: id}
	// A shallow copy: net/http still sees its own request's body (see kmsapi's MaxBytesReader).
	r = r.WithContext(requestinfo.NewContext(r.Context(), info))
	body := countBody(r)
	tw := &trackingWriter{ResponseWriter: w}
	defer f.finish(tw, r, info, route, start, body)
	defer f.recover(tw, r, id, route)
	switch route {
	case routeKMS:
		w.Header().Set("x-amzn-RequestId", id)
		f.kms.ServeHTTP(tw, r)
	case routeIAM:
		f.iam.ServeHTTP(tw, r)
	case routeCloudTrail:
		w.Header().Set("x-amzn-RequestId", id)
		f.cloudtrail.ServeHTTP(tw, r)
	default:
		f.s3.ServeHTTP(tw, r)
	}
}

// route picks the wire layer: the KMS and CloudTrail by their X-Amz-Target, IAM and STS by the service of the
// SigV4 credential scope, S3 otherwise.
func (f *front) route(r *http.Request) int {
	switch {
	case f.kms != nil && strings.HasPrefix(r.Header.Get("X-Amz-Target"), "TrentService."):
		return routeKMS
	case f.cloudtrail != nil && isCloudTrail(r):
		return routeCloudTrail
	case f.iam != nil:
		if s := scopeService(r); s == "iam" || s == "sts" {
			return routeIAM
		}
	}
	return routeS3
}

func isCloudTrail(r *http.Request) bool {
	_, ok := trailapi.Operation(r.Header.Get("X-Amz-Target"))
	return ok
}

// scopeService returns the service named by a request's SigV4 credential scope
// (AKID/date/region/service/aws4_request), in the Authorization header or the X-Amz-Credential
// query parameter; "" if there is none. It only looks: the wire layer verifies.
func scopeService(r *http.Request) string {
	cred := ""
	if a := r.Header.Get("Authorization"); a != "" {
		_, after, ok := strings.Cut(a, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ = strings.Cut(after, ",")
	} else if i := strings.Index(r.URL.RawQuery, "X-Amz-Credential="); i >= 0 {
		cred, _, _ = strings.Cut(r.URL.RawQuery[i+len("X-Amz-Credential="):], "&")
		cred = strings.ReplaceAll(strings.ReplaceAll(cred, "%2F", "/"), "%2f", "/")
	}
	cred = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cred), "/aws4_request"))
	i := strings.LastIndexByte(cred, '/')
	if i < 0 {
		return ""
	}
	svc := cred[i+1:]
	for j := 0; j < len(svc); j++ {
		if c := svc[j]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return ""
		}
	}
	return svc
}

// recover logs a handler's panic at error level with the request id and stack, and answers
// 500 InternalError in the wire shape of the request when nothing was written yet.
// http.ErrAbortHandler, net/http's way of aborting a response, passes through.
func (f *front) recover(w *trackingWriter, r *http.Request, id string, route int) {
	p := recover()
	if p == nil {
		return
	}
	if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
		panic(p)
	}
	f.log.Error("request handler panicked", "request_id", id, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if w.wrote {
		requestinfo.SetErrorCode(r.Context(), "InternalError")
		panic(http.ErrAbortHandler) // the response is under way: cut the connection
	}
	switch route {
	case routeIAM:
		requestinfo.SetErrorCode(r.Context(), "ServiceFailure")
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceFailure</Code><Message>An internal error occurred.</Message></Error><RequestId>%s</RequestId></ErrorResponse>", id)
		return
	case routeKMS:
		requestinfo.SetErrorCode(r.Context(), "KMSInternalException")
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"__type":"KMSInternalException","message":"An internal error occurred."}`)
		return
	case routeCloudTrail:
		requestinfo.SetErrorCode(r.Context(), "InternalFailure")
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"__type":"InternalFailure","message":"An internal error occurred."}`)
		return
	}
	requestinfo.SetErrorCode(r.Context(), "InternalError")
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>%s</RequestId><HostId>%s</HostId></Error>", id, id)
}

// trackingWriter notes whether the response has begun, its status and how many body bytes
// were written.
type trackingWriter struct {
	http.ResponseWriter
	wrote  bool
	status int // the first status written; 0 before
	bytes  int64
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	if t.status == 0 && code >= 200 {
		t.status = code
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	n, err := t.ResponseWriter.Write(b)
	t.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the underlying writer's fast path (sendfile on plain HTTP) for io.Copy.
func (t *trackingWriter) ReadFrom(r io.Reader) (int64, error) {
	t.wrote = true
	n, err := io.Copy(t.ResponseWriter, r)
	t.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (deadlines, flushing).
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
