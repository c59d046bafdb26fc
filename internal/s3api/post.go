package s3api

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/sigv4"
)

// POST Object: a browser uploads a file with an HTML form whose policy, signed by the bucket
// owner's key, says what the form may contain. The request itself is not signed, so
// authenticate lets it through to postObject, which verifies the form.

// isPostObject reports a browser form upload: a POST of multipart/form-data to a bucket.
func isPostObject(q *request) bool {
	if q.r.Method != http.MethodPost || q.bucket == "" || q.key != "" || len(q.query) != 0 {
		return false
	}
	mt, _, err := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

var errPostEnclosure = &apiError{"PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold: Bucket POST must be of the enclosure-type multipart/form-data"}

// postResponse is the body of a 201 answer to a form upload.
type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

func (h *Handler) postObject(q *request) error {
	_, params, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	if params["boundary"] == "" {
		return errMalformedPOST
	}
	form, err := readForm(q.body, params["boundary"])
	if err != nil {
		return err
	}
	auth, err := postAuthFields(form.fields)
	if err != nil {
		return err
	}
	if _, ok := form.fields["key"]; !ok {
		return missingFormField("key")
	}
	if form.file == nil {
		return errNoFile
	}
	q.key = strings.ReplaceAll(form.fields["key"], "${filename}", form.filename)
	form.fields["key"] = q.key
	a, policy, err := h.verify.VerifyPost(q.r.Context(), auth, q.bucket, form.fields)
	if err != nil {
		return withPolicyDetail(err)
	}
	p, ok := a.Owner.(iam.Principal)
	if !ok {
		return sigv4.ErrInvalidAccessKeyID
	}
	q.auth = a // SSE-KMS needs SigV4, also in a form
	h.identify(q, a, p, iam.AuthPOST)
	fq := formRequest(q, form.fields)
	// The form's fields stand for the request's headers, also as condition keys.
	if err := h.authorize(fq, objectOp("PostObject", "s3:PutObject", nil)); err != nil {
		return err
	}
	if _, err := h.writeTarget(fq); err != nil {
		return err
	}
	enc, err := checkNewObject(fq)
	defer enc.CustomerKey.Destroy()
	if err != nil {
		return err
	}
	e, err := expectFromRequest(fq)
	if err != nil {
		return err
	}
	std, user := objectHeaders(fq.r)
	in := object.PutInput{Bucket: q.bucket, Key: q.key, Owner: objectOwner(fq), Headers: std, UserMeta: user, Expect: e, SSE: enc}
	if err := formFileBody(&in, form, policy); err != nil {
		return err
	}
	o, err := h.objects.PutObject(q.r.Context(), in)
	if err != nil {
		return err
	}
	location := objectURL(q)
	hd := q.w.Header()
	hd.Set("ETag", `"`+o.ETag+`"`)
	hd.Set("Location", location)
	setChecksumHeaders(q.w, o.Checksums, o.ChecksumType)
	setSSEHeaders(q.w, o.Encryption)
	echoCustomerKey(q.w, o.Encryption, enc.CustomerKey)
	if to, ok := redirectTarget(form.fields, q.bucket, q.key, o.ETag); ok {
		hd.Set("Location", to)
		q.w.WriteHeader(http.StatusSeeOther)
		return nil
	}
	switch form.fields["success_action_status"] {
	case "200":
		q.w.WriteHeader(http.StatusOK)
	case "201":
		return h.writeXML(q, http.StatusCreated, postResponse{Location: location, Bucket: q.bucket, Key: q.key, ETag: `"` + o.ETag + `"`})
	default:
		q.w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

func missingFormField(name string) error {
	return &apiError{"InvalidArgument", http.StatusBadRequest, "Bucket POST must contain a field named '" + name + "'.  If it is specified, please check the order of the fields."}
}

// postAuthFields picks the authentication fields of a form. A form with none is anonymous,
// which no bucket here allows; one with some must have all that its signature version needs.
func postAuthFields(fields map[string]string) (*sigv4.PostForm, error) {
	f := &sigv4.PostForm{
		Policy: fields["policy"], Algorithm: fields["x-amz-algorithm"], Credential: fields["x-amz-credential"],
		Date: fields["x-amz-date"], Signature: fields["x-amz-signature"],
		AccessKeyID: fields["awsaccesskeyid"], SignatureV2: fields["signature"],
		SessionToken: fields["x-amz-security-token"],
	}
	need := []string{"policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"}
	if f.SigV2() {
		if f.Policy == "" && f.AccessKeyID == "" && f.SignatureV2 == "" {
			return nil, errAccessDenied
		}
		need = []string{"awsaccesskeyid", "policy", "signature"}
	}
	for _, n := range need {
		if fields[n] == "" {
			return nil, missingFormField(n)
		}
	}
	return f, nil
}

// withPolicyDetail adds to a policy failure what S3 names in its message: the failed
// condition, the uncovered fields or the fault in the document.
func withPolicyDetail(err error) error {
	var pe *sigv4.PolicyError
	if !errors.As(err, &pe) || pe.Detail == "" {
		return err
	}
	ae, _ := toAPIError(err)
	detailed := *ae
	detailed.Message += ": " + pe.Detail
	return &detailed
}

// formRequest is q with the form's fields in place of the request's headers, so PutObject's
// option checks and header readers apply to a form upload unchanged (TLS and context kept).
func formRequest(q *request, fields map[string]string) *request {
	hd := http.Header{}
	for name, v := range fields {
		if h := formHeader(name); h != "" {
			hd.Set(h, v)
		}
	}
	r := *q.r
	r.Header = hd
	fq := *q
	fq.r = &r
	return &fq
}

// formHeaderPrefixes are the x-amz-* form fields that stand for the request headers of the
// same names.
var formHeaderPrefixes = []string{"x-amz-meta-", "x-amz-checksum-", "x-amz-server-side-encryption",
	"x-amz-object-lock-", "x-amz-grant-", "x-amz-storage-class", "x-amz-website-redirect-location"}

// formHeader names the request header a form field stands for, or "" for fields that are not
// object options (key, policy, signature, success_action_*, x-ignore-*, unknown fields).
// Content-MD5 is one: S3 checks the file against it and refuses a mismatch.
func formHeader(field string) string {
	switch field {
	case "acl":
		return "x-amz-acl"
	case "tagging":
		return "x-amz-tagging"
	case "x-amz-checksum-algorithm":
		return "x-amz-sdk-checksum-algorithm"
	case "cache-control", "content-type", "content-disposition", "content-encoding", "content-language", "expires", "content-md5":
		return field
	}
	for _, p := range formHeaderPrefixes {
		if strings.HasPrefix(field, p) {
			return field
		}
	}
	return ""
}

// formFileBody sets the body of in to the form's file, held to the policy's content-length
// range as it streams. A file that fits inline is read whole first, so it is stored the way a
// PutObject of known size would store it.
func formFileBody(in *object.PutInput, form *postForm, policy *sigv4.PostPolicy) error {
	ff := &formFile{r: form.file, min: 0, max: object.MaxPutSize}
	if policy.HasLengthRange {
		ff.min, ff.max = policy.MinLength, min(policy.MaxLength, object.MaxPutSize)
	}
	buf := make([]byte, object.InlineMax+1)
	n, err := io.ReadFull(ff, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		in.Body, in.Size = bytes.NewReader(buf[:n]), int64(n)
	case err != nil:
		return err
	default:
		in.Body, in.Size = io.MultiReader(bytes.NewReader(buf), ff), -1
	}
	return nil
}

// formFile is the file of a form as it streams: it fails as soon as it passes the maximum
// size, and at its end if under the minimum, so a file outside the range is never stored.
type formFile struct {
	r        io.Reader
	n        int64
	min, max int64
}

func (f *formFile) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.n += int64(n)
	switch {
	case f.n > f.max:
		return n, fmt.Errorf("%w: the file is over %d bytes", object.ErrEntityTooLarge, f.max)
	case err == io.EOF && f.n < f.min:
		return n, fmt.Errorf("%w: the file is under %d bytes", object.ErrEntityTooSmall, f.min)
	case err != nil && err != io.EOF:
		return n, formReadError(err)
	}
	return n, err
}

// objectURL is the URL of the object just written, in the addressing style of the request.
func objectURL(q *request) string {
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	path := "/" + q.key
	if !q.vhost {
		path = "/" + q.bucket + path
	}
	return scheme + "://" + q.r.Host + (&url.URL{Path: path}).EscapedPath()
}

// redirectTarget is where a successful upload sends the browser: success_action_redirect (or
// the legacy redirect) with bucket, key and etag added to its query. S3 ignores a value that is
// not an absolute http(s) URL.
func redirectTarget(fields map[string]string, bucket, key, etag string) (string, bool) {
	raw, ok := fields["success_action_redirect"]
	if !ok {
		raw = fields["redirect"]
	}
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + "bucket=" + url.QueryEscape(bucket) + "&key=" + url.QueryEscape(key) +
		"&etag=" + url.QueryEscape(`"`+etag+`"`), true
}
