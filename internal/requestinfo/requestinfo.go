// Package requestinfo carries what is learnt about a request being served in its context:
// the request id the front router gave it, and the operation and error code its wire layer
// found. Logs take the id from it (Handler), metrics the operation and code.
//
// The wire layers only write to it, and each value they write comes from a fixed set (the
// operations they route, the codes of their error tables): never a bucket, key or key id.
package requestinfo

import (
	"context"
	"log/slog"
)

// Info describes one request. It belongs to the goroutine serving the request: the wire
// layer writes it, the front router reads it once the wire layer has returned.
type Info struct {
	// ID is the request id, as the response's x-amz-request-id gives it.
	ID        string
	operation string
	errorCode string
}

type contextKey struct{}

// NewContext returns ctx carrying info.
func NewContext(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, contextKey{}, info)
}

// FromContext returns the Info of ctx, nil when there is none.
func FromContext(ctx context.Context) *Info {
	info, _ := ctx.Value(contextKey{}).(*Info)
	return info
}

// SetOperation names the operation (an S3 operation such as "GetObject", a KMS or
// CloudTrail operation, an IAM or STS action) the request was routed to.
func SetOperation(ctx context.Context, name string) {
	if info := FromContext(ctx); info != nil {
		info.operation = name
	}
}

// SetErrorCode gives the AWS error code the request is answered with; the last one set wins,
// as a wire layer may replace an error (a failed audit record answers InternalError).
func SetErrorCode(ctx context.Context, code string) {
	if info := FromContext(ctx); info != nil {
		info.errorCode = code
	}
}

// Operation returns the operation set, "" if none was (a request refused before routing).
func (i *Info) Operation() string { return i.operation }

// ErrorCode returns the error code set, "" for a request answered without error.
func (i *Info) ErrorCode() string { return i.errorCode }

// Handler wraps a slog.Handler so that every record logged with a request's context
// (Logger.InfoContext and the like) carries the request's id as request_id, unless the
// record names one itself.
func Handler(h slog.Handler) slog.Handler { return idHandler{h} }

type idHandler struct{ slog.Handler }

func (h idHandler) Handle(ctx context.Context, r slog.Record) error {
	if info := FromContext(ctx); info != nil && info.ID != "" && !hasRequestID(r) {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", info.ID))
	}
	return h.Handler.Handle(ctx, r)
}

func hasRequestID(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == "request_id"
		return !found
	})
	return found
}

func (h idHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return idHandler{h.Handler.WithAttrs(attrs)}
}

func (h idHandler) WithGroup(name string) slog.Handler { return idHandler{h.Handler.WithGroup(name)} }
