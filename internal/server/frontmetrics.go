package server

import (
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coffer/coffer/internal/requestinfo"
)

// apiName is a route's name in metrics and logs; IAM and STS share a route and are told
// apart by the credential scope.
func apiName(route int, r *http.Request) string {
	switch route {
	case routeKMS:
		return "kms"
	case routeCloudTrail:
		return "cloudtrail"
	case routeIAM:
		if scopeService(r) == "sts" {
			return "sts"
		}
		return "iam"
	}
	return "s3"
}

// finish counts an answered request and logs it at debug level (an access log, with the
// request id, for operators who ask for it with --log-level debug).
func (f *front) finish(w *trackingWriter, r *http.Request, info *requestinfo.Info, route int, start time.Time, body *countingBody) {
	took := time.Since(start)
	status := w.status
	if status == 0 {
		status = http.StatusOK // nothing written: net/http answers 200
	}
	var in int64
	if body != nil {
		in = body.n.Load()
	}
	api := apiName(route, r)
	if f.metrics != nil {
		f.metrics.observeRequest(api, info, status, took, in, w.bytes)
	}
	if f.log.Enabled(r.Context(), slog.LevelDebug) {
		f.log.LogAttrs(r.Context(), slog.LevelDebug, "request", slog.String("request_id", info.ID),
			slog.String("api", api), slog.String("operation", info.Operation()), slog.String("method", r.Method),
			slog.Int("status", status), slog.String("code", info.ErrorCode()), slog.Duration("took", took),
			slog.Int64("bytes_in", in), slog.Int64("bytes_out", w.bytes))
	}
}

// countingBody counts the bytes read from a request body. Atomic: a wire layer may read a
// body on another goroutine than the one that counts it.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// countBody makes r's body count the bytes read from it; nil for a request without a body.
func countBody(r *http.Request) *countingBody {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	c := &countingBody{ReadCloser: r.Body}
	r.Body = c
	return c
}
