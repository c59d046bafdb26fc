// Package iamapi serves Coffer's IAM and STS over the AWS Query protocol: a form-encoded POST
// (or GET with the same query) with Action and Version (2010-05-08 for IAM, 2011-06-15 for STS),
// SigV4-signed for service "iam" or "sts", answered in XML in each service's namespace. It
// authenticates every request itself, authorizes IAM actions from the caller's identity
// policies (the account root may do everything in its account), calls package iam and renders
// results and errors (one error table, errors.go) as AWS does.
package iamapi

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/requestinfo"
	"github.com/coffer/coffer/internal/sigv4"
)

// MaxBody caps request bodies: the largest IAM request, a 10,240-character role policy,
// URL-encoded, is far below it.
const MaxBody = 128 << 10

// Protocol versions and XML namespaces.
const (
	iamVersion = "2010-05-08"
	stsVersion = "2011-06-15"
	iamNS      = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNS      = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// globalRegion is the region IAM (a global service) and the global STS endpoint sign with.
const globalRegion = "us-east-1"

// Config configures the handler.
type Config struct {
	Service *iam.Service
	// Region is the server's region; requests signed for it or for us-east-1 are accepted.
	Region string
	// Lookup is the request's one credential lookup (as for every wire layer).
	Lookup func(ctx context.Context, accessKey, sessionToken string) (sigv4.Credential, error)
	Logger *slog.Logger
	// Audit takes one record per authenticated call, kept before the call is answered;
	// audit.Discard when nil.
	Audit audit.Recorder
}

// Handler is the IAM and STS wire layer.
type Handler struct {
	svc    *iam.Service
	region string
	ver    *sigv4.Verifier // the server's region
	global *sigv4.Verifier // us-east-1, IAM's signing region
	log    *slog.Logger
	audit  audit.Recorder
}

// New returns the handler.
func New(cfg Config) *Handler {
	h := &Handler{svc: cfg.Service, region: cfg.Region, log: cfg.Logger, audit: cfg.Audit,
		ver:    &sigv4.Verifier{Region: cfg.Region, Lookup: cfg.Lookup, MaxBody: MaxBody},
		global: &sigv4.Verifier{Region: globalRegion, Lookup: cfg.Lookup, MaxBody: MaxBody}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.audit == nil {
		h.audit = audit.Discard{}
	}
	return h
}

// call is one IAM or STS request being served.
type call struct {
	ctx     context.Context
	caller  iam.Principal
	req     *iam.Request
	form    url.Values
	action  string
	service string // "iam" or "sts"
	// unrecorded marks a call of no operation (a missing, unknown or misversioned action):
	// CloudTrail has no event for it.
	unrecorded bool
}

// get returns a form parameter.
func (c *call) get(name string) string { return c.form.Get(name) }

// ServeHTTP implements http.Handler. The request id header is set by the front router. Every
// authenticated call is recorded before it is answered; one whose record cannot be kept
// answers ServiceFailure, so no answered call (no access key or session handed out) lacks its
// record.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := w.Header().Get("x-amz-request-id")
	w.Header().Set("x-amzn-RequestId", rid)
	c, err := h.authenticate(w, r, rid)
	var out any
	if err == nil {
		out, err = h.dispatch(c)
	}
	ns := iamNS
	if c != nil && c.service == "sts" || c == nil && serviceOf(r) == "sts" {
		ns = stsNS
	}
	var ae *apiError
	if err != nil {
		ae = classify(err)
	}
	if c != nil && !c.unrecorded {
		if rerr := h.record(r, c, out, ae); rerr != nil {
			h.log.Error("iam request not answered: its audit record failed", "request_id", rid, "action", c.action, "err", rerr)
			ae = errInternal
		}
	}
	if ae != nil {
		requestinfo.SetErrorCode(r.Context(), ae.code)
		if ae.status >= 500 {
			h.log.Error("iam request failed", "request_id", rid, "err", err)
		}
		writeXML(w, ae.status, errorResponse{NS: ns, Error: errorBody{Type: ae.kind(), Code: ae.code, Message: ae.message}, RequestID: rid})
		return
	}
	writeXML(w, http.StatusOK, response{name: c.action + "Response", NS: ns, Result: resultElem{name: c.action + "Result", v: out},
		Meta: responseMetadata{RequestID: rid}})
}

// serviceOf returns the credential scope service of a request, as the front router does.
func serviceOf(r *http.Request) string {
	if strings.Contains(r.Header.Get("Authorization"), "/sts/aws4_request") || strings.Contains(r.URL.RawQuery, "%2Fsts%2Faws4_request") {
		return "sts"
	}
	return "iam"
}

// authenticate verifies the signature, reads the form and builds the request identity.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request, rid string) (*call, error) {
	r = r.WithContext(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	auth, err := h.ver.Verify(r)
	var re *sigv4.RegionError
	if errors.As(err, &re) && re.Got == globalRegion {
		auth, err = h.global.Verify(r)
	}
	if err != nil {
		return nil, err
	}
	if auth.Service != "iam" && auth.Service != "sts" {
		return nil, errWrongService
	}
	if auth.SigV2 {
		return nil, sigv4.ErrUnsupportedSignature
	}
	p, ok := auth.Owner.(iam.Principal)
	if !ok {
		return nil, sigv4.ErrInvalidAccessKeyID
	}
	if !auth.PayloadSigned() {
		// UNSIGNED-PAYLOAD (a presigned URL) leaves the body unauthenticated: only the signed
		// query counts.
		auth.Body = http.NoBody
	}
	body, err := io.ReadAll(io.LimitReader(auth.Body, MaxBody+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge
		}
		return nil, err
	}
	if len(body) > MaxBody {
		return nil, errBodyTooLarge
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errMalformedQuery
	}
	for k, vs := range r.URL.Query() {
		if !strings.HasPrefix(k, "X-Amz-") {
			form[k] = append(form[k], vs...)
		}
	}
	req := iam.NewRequest(p, r.RemoteAddr, r.TLS != nil, r.UserAgent(), rid, auth.Region).Signed(iam.AuthHeader, iam.SigV4, auth.Date, auth.ContentSHA256)
	if auth.Presigned {
		req.AuthType = iam.AuthQueryString
	}
	c := &call{ctx: iam.WithRequest(r.Context(), req), caller: p, req: req, form: form, action: form.Get("Action"), service: auth.Service}
	return c, nil
}

// dispatch checks the action and version and runs the operation.
func (h *Handler) dispatch(c *call) (any, error) {
	ops, version := iamOperations, iamVersion
	if c.service == "sts" {
		ops, version = stsOperations, stsVersion
	}
	if c.action == "" {
		c.unrecorded = true
		return nil, errMissingAction
	}
	op, ok := ops[c.action]
	if !ok || c.get("Version") != version {
		// No IAM event: neither an invented action nor its parameters (an
		// UploadServerCertificate's private key, say) reach the audit trail.
		c.unrecorded = true
		return nil, &apiError{"InvalidAction", http.StatusBadRequest, "Could not find operation " + c.action + " for version " + c.get("Version")}
	}
	requestinfo.SetOperation(c.ctx, c.action)
	return op(h, c)
}

// response is <{Action}Response xmlns=...><{Action}Result>...</...><ResponseMetadata>.
type response struct {
	name   string
	NS     string
	Result resultElem
	Meta   responseMetadata
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// resultElem renders v under the element name; a nil v renders no Result element.
type resultElem struct {
	name string
	v    any
}

func (r response) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	start := xml.StartElement{Name: xml.Name{Local: r.name}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: r.NS}}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if r.Result.v != nil {
		if err := e.EncodeElement(r.Result.v, xml.StartElement{Name: xml.Name{Local: r.Result.name}}); err != nil {
			return err
		}
	}
	if err := e.EncodeElement(r.Meta, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

type errorResponse struct {
	XMLName   xml.Name  `xml:"ErrorResponse"`
	NS        string    `xml:"xmlns,attr"`
	Error     errorBody `xml:"Error"`
	RequestID string    `xml:"RequestId"`
}

type errorBody struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceFailure</Code><Message>An internal error occurred.</Message></Error></ErrorResponse>`)
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(b)
	clear(b) // best effort: CreateAccessKey and AssumeRole answers hold secret keys
}
