package s3api

import (
	"crypto/tls"
	"errors"
	"net/http"
	"strings"

	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/policy"
)

// authorize asks the object service whether the caller may perform the operation, once,
// before its handler runs, and keeps the bucket the decision read for the handler.
func (h *Handler) authorize(q *request, op operation) error {
	a := object.Access{Action: op.action}
	switch op.scope {
	case scopeSelf:
		return nil
	case scopeBucket:
		a.Bucket = q.bucket
	case scopeNewBucket:
		a.Bucket, a.NewBucket = q.bucket, true
	case scopeObject:
		a.Bucket, a.Key = q.bucket, q.key
		if op.action == "s3:PutObject" {
			a.UploadID = q.query.Get("uploadId")
		}
	}
	a.Conditions = requestConditions(q)
	b, err := h.objects.Authorize(q.r.Context(), a)
	if err != nil {
		return err
	}
	q.target = b
	return nil
}

// authorizeObject decides one more object action of a request: s3:GetObject on a copy
// source.
func (h *Handler) authorizeObject(q *request, action, bucket, key string) (object.Bucket, error) {
	return h.objects.Authorize(q.r.Context(), object.Access{Action: action, Bucket: bucket, Key: key, Conditions: requestConditions(q)})
}

// hideMissingKey turns a read's NoSuchKey into AccessDenied for a caller that may not list the
// bucket, as S3 does: only who may list a bucket may learn which keys it lacks.
func (h *Handler) hideMissingKey(q *request, op operation, err error) error {
	if !errors.Is(err, object.ErrNoSuchKey) || op.scope != scopeObject || !strings.HasPrefix(op.action, "s3:GetObject") {
		return err
	}
	_, lerr := h.objects.Authorize(q.r.Context(), object.Access{Action: "s3:ListBucket", Bucket: q.bucket, Conditions: requestConditions(q)})
	if errors.Is(lerr, object.ErrAccessDenied) {
		return errAccessDenied
	}
	return err
}

// conditionHeaders are the request headers S3 gives policies as s3: condition keys, by the
// lower-cased key name.
var conditionHeaders = []struct{ key, header string }{
	{"s3:x-amz-server-side-encryption", "X-Amz-Server-Side-Encryption"},
	{"s3:x-amz-server-side-encryption-aws-kms-key-id", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"},
	{"s3:x-amz-server-side-encryption-customer-algorithm", "X-Amz-Server-Side-Encryption-Customer-Algorithm"},
	{"s3:x-amz-acl", "X-Amz-Acl"},
	{"s3:x-amz-copy-source", "X-Amz-Copy-Source"},
	{"s3:x-amz-metadata-directive", "X-Amz-Metadata-Directive"},
	{"s3:x-amz-storage-class", "X-Amz-Storage-Class"},
}

// conditionParams are the list parameters S3 gives policies as s3: condition keys.
var conditionParams = []struct{ key, param string }{
	{"s3:prefix", "prefix"},
	{"s3:delimiter", "delimiter"},
	{"s3:max-keys", "max-keys"},
}

// requestConditions returns the s3: condition keys the request's headers and query give,
// verbatim: S3 evaluates the request as sent, before any default (a bucket's default
// encryption does not fill s3:x-amz-server-side-encryption). The keys of the signature
// (s3:authType, s3:signatureAge ...) come from the request identity.
func requestConditions(q *request) map[string][]string {
	var m map[string][]string
	set := func(k, v string) {
		if m == nil {
			m = make(map[string][]string, 4)
		}
		m[k] = []string{v}
	}
	for _, c := range conditionHeaders {
		if v, ok := q.r.Header[c.header]; ok && len(v) > 0 {
			set(c.key, v[0])
		}
	}
	for _, c := range conditionParams {
		if v, ok := q.query[c.param]; ok && len(v) > 0 {
			set(c.key, v[0])
		}
	}
	if q.r.TLS != nil {
		set("s3:tlsversion", tlsVersion(q.r.TLS.Version))
	}
	return m
}

// tlsVersion is s3:TlsVersion's value for a TLS version: "1.2", "1.3".
func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "1.3"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS11:
		return "1.1"
	}
	return "1.0"
}

// accessDenied renders a refusal as S3 does: to a caller of the bucket owner's account, which
// principal may not do what on which resource and why; to anyone else, "Access Denied".
func accessDenied(e *object.AccessDeniedError) *apiError {
	resource := "\"" + e.Resource + "\""
	var msg string
	switch {
	case e.PublicPolicyBlocked && e.Principal != "":
		msg = "User: " + e.Principal + " is not authorized to perform: " + e.Action + " on resource: " + resource +
			" because public policies are blocked by the BlockPublicPolicy block public access setting."
	case !e.Explained || e.Principal == "" || e.DeniedBy == "":
		return errAccessDenied
	default:
		msg = policy.DeniedMessage(e.Principal, e.Action, resource, e.ExplicitDeny, e.DeniedBy)
	}
	return &apiError{"AccessDenied", http.StatusForbidden, msg}
}
