// Package kmsapi serves Coffer's KMS over the AWS KMS JSON 1.1 protocol: POST / with
// X-Amz-Target: TrentService.<Operation>, SigV4-signed for service "kms". It authenticates
// every request itself, decodes the JSON body, calls package kms and renders results and
// errors (one error table, errors.go) as AWS does.
package kmsapi

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
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
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/requestinfo"
	"github.com/coffer/coffer/internal/sigv4"
)

// MaxBody caps request bodies. The largest KMS requests (a 32 KiB key policy, a 6 KiB
// ciphertext in base64) are far below it.
const MaxBody = 256 << 10

const (
	targetPrefix = "TrentService."
	contentType  = "application/x-amz-json-1.1"
)

// Config configures the handler.
type Config struct {
	Service   *kms.Service
	Verifier  *sigv4.Verifier
	Directory iam.Directory
	Logger    *slog.Logger
	// Audit takes one record per authenticated call, kept before the call is answered;
	// audit.Discard when nil.
	Audit audit.Recorder
}

// Handler is the KMS wire layer.
type Handler struct {
	svc   *kms.Service
	ver   *sigv4.Verifier
	dir   iam.Directory
	log   *slog.Logger
	audit audit.Recorder
}

// New returns the KMS API handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Service == nil || cfg.Verifier == nil || cfg.Directory == nil {
		return nil, errors.New("kmsapi: Service, Verifier and Directory are required")
	}
	h := &Handler{svc: cfg.Service, ver: cfg.Verifier, dir: cfg.Directory, log: cfg.Logger, audit: cfg.Audit}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.audit == nil {
		h.audit = audit.Discard{}
	}
	return h, nil
}

func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ServeHTTP implements http.Handler. Every authenticated call is recorded (one record, made
// here) before it is answered; a call whose record cannot be kept answers
// KMSInternalException, so no answered call lacks its record.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A front router may already have given the request an id; keep it so the logs agree.
	rid := w.Header().Get("x-amzn-RequestId")
	if rid == "" {
		rid = requestID()
		w.Header().Set("x-amzn-RequestId", rid)
	}
	var c call
	out, err := h.serve(w, r, &c)
	var ae *apiError
	if err != nil {
		ae = classify(err)
		if ae == internalError {
			h.log.Error("kms request failed", "op", c.op, "request_id", rid, "err", err)
		}
	}
	if c.req != nil {
		if rerr := h.record(r, &c, out, ae); rerr != nil {
			h.log.Error("kms request not answered: its audit record failed", "op", c.op, "request_id", rid, "err", rerr)
			clearSecrets(out)
			ae = internalError
		}
	}
	if ae != nil {
		requestinfo.SetErrorCode(r.Context(), ae.Type)
		writeJSON(w, ae.Status, errorBody{Type: ae.Type, Message: ae.Message})
		return
	}
	writeJSON(w, http.StatusOK, out)
	clearSecrets(out)
}

type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// serve authenticates and runs one call, filling c with what its record needs.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, c *call) (any, error) {
	opName, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if r.Method != http.MethodPost || !ok {
		return nil, &kms.Error{Kind: errUnknownOperation, Message: "Unknown operation."}
	}
	c.op = opName
	if _, known := operations[opName]; known {
		requestinfo.SetOperation(r.Context(), opName)
	}
	// The cap goes on a shallow copy: net/http recognises an unread Expect: 100-continue body
	// by the type of the original request's Body, and drains anything else it does not know
	// before replying, waiting for a body the client was never asked to send.
	r = r.WithContext(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	auth, err := h.ver.Verify(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge
		}
		return nil, err
	}
	// auth.Body is not closed here: net/http closes it after flushing the response, whereas
	// closing it first would drain a body an Expect: 100-continue client was never asked for.
	if auth.Service != "kms" {
		return nil, errWrongService
	}
	if !awsjson.SignedPayload(auth.ContentSHA256) {
		// UNSIGNED-PAYLOAD and the streaming modes leave the JSON body unauthenticated: a
		// request whose body could be swapped after signing is refused.
		return nil, fmt.Errorf("%w: the KMS API needs a signed payload hash", sigv4.ErrSignatureDoesNotMatch)
	}
	p, ok := auth.Owner.(iam.Principal)
	if !ok {
		return nil, sigv4.ErrInvalidAccessKeyID
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
	ri := iam.NewRequest(p, r.RemoteAddr, r.TLS != nil, r.UserAgent(), w.Header().Get("x-amzn-RequestId"), auth.Region).Signed(iam.AuthHeader, iam.SigV4, auth.Date, auth.ContentSHA256)
	fn, ok := operations[opName]
	if !ok {
		// No KMS event, as CloudTrail records none: neither an invented name nor a body of
		// unknown members (secrets, for all this server knows) reaches the audit trail.
		return nil, &kms.Error{Kind: errUnknownOperation, Message: "Unknown operation " + opName + "."}
	}
	c.req, c.body = ri, body
	r = r.WithContext(kms.WithKeysUsed(iam.WithRequest(r.Context(), ri), &c.keys))
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	return fn(h, r, kms.CallerFrom(ri), body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"KMSInternalException","message":"An internal error occurred."}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
	clear(b) // best effort: the body may hold plaintext data keys
}

// decode parses a request body into v.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return errSerialization
	}
	return nil
}
