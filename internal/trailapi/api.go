// Package trailapi serves Coffer's CloudTrail API over AWS's JSON 1.1 protocol: POST / with
// X-Amz-Target: [com.amazonaws.cloudtrail.v20131101.]CloudTrail_20131101.<Operation>, SigV4-
// signed for service "cloudtrail". It authenticates each request, authorizes it with the
// caller's identity policies (cloudtrail:<Operation>; the account root may do everything),
// calls package trail or reads the audit Writer, records the call in the audit trail
// (eventSource cloudtrail.amazonaws.com) and renders results and errors (one error table,
// errors.go) as CloudTrail does.
package trailapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/awsjson"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/requestinfo"
	"github.com/coffer/coffer/internal/sigv4"
	"github.com/coffer/coffer/internal/trail"
)

// The X-Amz-Target of a CloudTrail request is <prefix><Operation>: botocore (the aws CLI,
// boto3) sends the model's full target prefix, aws-sdk-go-v2 the short one.
const (
	targetPrefix      = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
	shortTargetPrefix = "CloudTrail_20131101."
)

// Operation returns the operation an X-Amz-Target names, and whether it is a CloudTrail
// target at all.
func Operation(target string) (string, bool) {
	if op, ok := strings.CutPrefix(target, targetPrefix); ok {
		return op, true
	}
	return strings.CutPrefix(target, shortTargetPrefix)
}

// MaxBody caps request bodies; the largest CloudTrail requests here (500 advanced selector
// values of up to 2 KiB) stay below it.
const MaxBody = 2 << 20

const contentType = "application/x-amz-json-1.1"

// Events is what LookupEvents reads: the audit Writer's records, newest first.
type Events interface {
	Events(ctx context.Context, f audit.Filter, fn func(*audit.Event) bool) error
}

// Config configures the handler.
type Config struct {
	Trails   *trail.Service
	Verifier *sigv4.Verifier
	// Events and PublicKeys are the audit Writer's records and published signing keys (the
	// server's own: audit.TrustedKeys); nil (a server run with --no-audit) answers no events
	// and no keys.
	Events     Events
	PublicKeys func(ctx context.Context) ([]audit.PublicKey, error)
	// Audit records each call; audit.Discard when nil.
	Audit  audit.Recorder
	Logger *slog.Logger
}

// Handler is the CloudTrail wire layer.
type Handler struct {
	cfg Config
	log *slog.Logger
}

// New returns the CloudTrail API handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Trails == nil || cfg.Verifier == nil {
		return nil, errors.New("trailapi: Trails and Verifier are required")
	}
	if cfg.Audit == nil {
		cfg.Audit = audit.Discard{}
	}
	h := &Handler{cfg: cfg, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// call is one authenticated request.
type call struct {
	ctx    context.Context
	op     string
	caller iam.Principal
	req    *iam.Request
	body   []byte
	event  *audit.Event // the call's audit record, filled in by the operation
}

// account is the caller's account: every operation acts in it.
func (c *call) account() string { return c.caller.AccountID }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := w.Header().Get("x-amzn-RequestId")
	if rid == "" {
		rid = w.Header().Get("x-amz-request-id")
		w.Header().Set("x-amzn-RequestId", rid)
	}
	c, err := h.authenticate(w, r, rid)
	var out any
	if err == nil {
		out, err = h.run(c)
	}
	if c != nil {
		// The call is recorded before it is answered: an answered call always has its record.
		if rerr := h.record(c, err); rerr != nil {
			h.log.Error("cloudtrail call not recorded; answered with an internal error", "op", c.op, "request_id", rid, "err", rerr)
			out, err = nil, rerr
		}
	}
	if err != nil {
		ae := classify(err)
		if ae == internalError {
			h.log.Error("cloudtrail request failed", "request_id", rid, "err", err)
		}
		requestinfo.SetErrorCode(r.Context(), ae.Type)
		writeJSON(w, ae.Status, errorBody{Type: ae.Type, Message: ae.Message})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// authenticate checks the target, the signature and the body of a request; it returns the
// call (nil when the caller is unknown, so there is nothing to record).
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request, rid string) (*call, error) {
	op, ok := Operation(r.Header.Get("X-Amz-Target"))
	if r.Method != http.MethodPost || !ok {
		return nil, errUnknownOperation
	}
	r = r.WithContext(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	auth, err := h.cfg.Verifier.Verify(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge
		}
		return nil, err
	}
	if auth.Service != "cloudtrail" {
		return nil, errWrongService
	}
	if !awsjson.SignedPayload(auth.ContentSHA256) {
		return nil, fmt.Errorf("%w: the CloudTrail API needs a signed payload hash", sigv4.ErrSignatureDoesNotMatch)
	}
	p, ok := auth.Owner.(iam.Principal)
	if !ok {
		return nil, sigv4.ErrInvalidAccessKeyID
	}
	body, err := io.ReadAll(auth.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge
		}
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	ri := iam.NewRequest(p, r.RemoteAddr, r.TLS != nil, r.UserAgent(), rid, auth.Region).Signed(iam.AuthHeader, iam.SigV4, auth.Date, auth.ContentSHA256)
	c := &call{ctx: iam.WithRequest(r.Context(), ri), op: op, caller: p, req: ri, body: body}
	c.event = audit.NewEvent(ri, audit.SourceCloudTrail, op)
	c.event.TLSDetails = audit.TLS(r.TLS, r.Host)
	return c, nil
}

// run authorizes and performs the call's operation.
func (h *Handler) run(c *call) (any, error) {
	fn, ok := operations[c.op]
	if !ok {
		c.event = nil // an unknown operation is no CloudTrail event
		return nil, errUnknownOperation
	}
	requestinfo.SetOperation(c.ctx, c.op)
	return fn(h, c)
}

// authorize lets the account root do everything in its account and others what their
// identity policies allow: cloudtrail:<Operation> on resource.
func (h *Handler) authorize(c *call, resource string) error {
	return iam.Authorize(c.caller, c.account(), "cloudtrail:"+c.op, resource, c.req.GlobalConditions())
}

// decode parses the request body into v; its members become the record's requestParameters.
func (c *call) decode(v any) error {
	if err := json.Unmarshal(c.body, v); err != nil {
		return errSerialization
	}
	c.event.RequestParameters = requestParameters(c.body)
	return nil
}

// requestParameters are the request's members with CloudTrail's lower-camel-case names.
func requestParameters(body []byte) map[string]any {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil || len(m) == 0 {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != "" {
			k = strings.ToLower(k[:1]) + k[1:]
		}
		out[k] = v
	}
	return out
}

// record keeps the call's audit record, marked failed with the error the caller gets.
func (h *Handler) record(c *call, err error) error {
	if c.event == nil {
		return nil
	}
	if err != nil {
		ae := classify(err)
		c.event.Fail(ae.Type, ae.Message)
		c.event.ResponseElements = nil
	}
	return h.cfg.Audit.Record(c.ctx, c.event)
}

type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"InternalFailure","message":"An internal error occurred."}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
}
