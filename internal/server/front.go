package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
)

// front routes each request to the S3 or the KMS wire layer, gives every response its request
// id, and turns a panic (a bug, or a damaged page of meta.db read through bbolt's mmap) into a
// logged 500 instead of a dead connection or process.
type front struct {
	s3  http.Handler
	kms http.Handler
	log *slog.Logger
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := newRequestID()
	w.Header().Set("x-amz-request-id", id)
	w.Header().Set("x-amz-id-2", id)
	isKMS := f.kms != nil && strings.HasPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	// A fault reading bbolt's mmap becomes a panic, recovered below. The setting belongs to
	// this goroutine (net/http's, for this connection) and is harmless for its later requests.
	debug.SetPanicOnFault(true)
	tw := &trackingWriter{ResponseWriter: w}
	defer f.recover(tw, r, id, isKMS)
	if isKMS {
		w.Header().Set("x-amzn-RequestId", id)
		f.kms.ServeHTTP(tw, r)
		return
	}
	f.s3.ServeHTTP(tw, r)
}

// recover logs a handler's panic at error level with the request id and stack, and answers
// 500 InternalError in the wire shape of the request when nothing was written yet.
// http.ErrAbortHandler, net/http's way of aborting a response, passes through.
func (f *front) recover(w *trackingWriter, r *http.Request, id string, isKMS bool) {
	p := recover()
	if p == nil {
		return
	}
	if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
		panic(p)
	}
	f.log.Error("request handler panicked", "request_id", id, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if w.wrote {
		panic(http.ErrAbortHandler) // the response is under way: cut the connection
	}
	if isKMS {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"__type":"KMSInternalException","message":"An internal error occurred."}`)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>%s</RequestId><HostId>%s</HostId></Error>", id, id)
}

// trackingWriter notes whether the response has begun.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// ReadFrom keeps the underlying writer's fast path (sendfile on plain HTTP) for io.Copy.
func (t *trackingWriter) ReadFrom(r io.Reader) (int64, error) {
	t.wrote = true
	return io.Copy(t.ResponseWriter, r)
}

// Unwrap lets http.ResponseController reach the connection (deadlines, flushing).
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
