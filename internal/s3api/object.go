package s3api

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coffer/coffer/internal/object"
)

// bodyLength is the payload length the client declared: the decoded length of an aws-chunked
// body, else Content-Length.
func bodyLength(q *request) (int64, error) {
	if q.auth.DecodedLength >= 0 {
		return q.auth.DecodedLength, nil
	}
	if strings.HasPrefix(q.auth.ContentSHA256, "STREAMING-") {
		// aws-chunked framing without x-amz-decoded-content-length: the wire length is not
		// the object's.
		return 0, errMissingLength
	}
	if q.r.ContentLength >= 0 {
		return q.r.ContentLength, nil
	}
	return 0, errMissingLength
}

// uploadBody checks a request that uploads a body (PutObject, UploadPart): the encryption it
// asks for, a declared length within the limit, and the digests it must match.
func uploadBody(q *request) (int64, object.Expect, object.SSE, error) {
	check := checkNewObject
	if q.query.Get("uploadId") != "" { // parts carry no object options
		check = checkSSEWrite
	}
	enc, err := check(q)
	if err != nil {
		return 0, object.Expect{}, enc, err
	}
	size, err := bodyLength(q)
	if err != nil {
		return 0, object.Expect{}, enc, err
	}
	if size > object.MaxPutSize {
		return 0, object.Expect{}, enc, errEntityTooLarge
	}
	e, err := expectFromRequest(q)
	return size, e, enc, err
}

func (h *Handler) putObject(q *request) error {
	if _, err := h.writeTarget(q); err != nil {
		return err
	}
	size, e, enc, err := uploadBody(q)
	defer enc.CustomerKey.Destroy()
	if err != nil {
		return err
	}
	std, user := objectHeaders(q.r)
	cond, err := writeCondition(q)
	if err != nil {
		return err
	}
	o, err := h.objects.PutObject(q.r.Context(), object.PutInput{
		Bucket: q.bucket, Key: q.key, Owner: objectOwner(q), Body: q.body, Size: size,
		Headers: std, UserMeta: user, Expect: e, Condition: cond, SSE: enc,
	})
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", `"`+o.ETag+`"`)
	setSSEHeaders(q.w, o.Encryption)
	echoCustomerKey(q.w, o.Encryption, enc.CustomerKey)
	setSSEContextHeader(q.w, o.Encryption, o.Bucket, o.Key)
	setChecksumHeaders(q.w, o.Checksums, o.ChecksumType)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) headObject(q *request) error    { return h.getObject(q, true) }
func (h *Handler) getObjectBody(q *request) error { return h.getObject(q, false) }

func (h *Handler) getObject(q *request, head bool) error {
	ck, err := checkSSERead(q)
	defer ck.Destroy()
	if err != nil {
		return err
	}
	ctx := q.r.Context()
	if !head {
		if err := h.refuseSigV2KMSRead(q, q.bucket, q.key); err != nil {
			return err
		}
	}
	// A GET opens the bytes before any header is written, so the headers describe exactly
	// the object being sent even when an overwrite races the request.
	var o object.Object
	var rd object.Reader
	if head {
		if o, err = h.objects.Head(ctx, q.bucket, q.key); err == nil {
			err = o.CheckCustomerKey(ck)
		}
	} else {
		o, rd, err = h.objects.OpenObject(ctx, q.bucket, q.key, ck)
	}
	if err != nil {
		return err
	}
	if rd != nil {
		defer rd.Close()
	}
	if err := checkKMSRead(q, o.Encryption); err != nil {
		return err
	}
	if err := checkConditions(q.r.Header, o, ""); err != nil {
		if err == errNotModified {
			q.w.Header().Set("ETag", `"`+o.ETag+`"`)
			q.w.Header().Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
		}
		return err
	}
	start, length, partial := int64(0), o.Size, false
	if pn := q.query.Get("partNumber"); pn != "" {
		n, err := strconv.Atoi(pn)
		if err != nil || n < 1 || n > object.MaxPartNumber {
			return errInvalidPartNumber
		}
		if q.r.Header.Get("Range") != "" {
			return &apiError{"InvalidRequest", http.StatusBadRequest, "Cannot specify both Range header and partNumber query parameter"}
		}
		start, length, err = partRange(o, n)
		if err != nil {
			return err
		}
		partial = o.PartsCount > 0
		q.w.Header().Set("x-amz-mp-parts-count", itoa64(int64(max(o.PartsCount, 1))))
	} else if rh := q.r.Header.Get("Range"); rh != "" {
		var ok bool
		start, length, ok, err = parseRange(rh, o.Size)
		if err != nil {
			return err
		}
		partial = ok
	}
	setObjectHeaders(q.w, o)
	echoCustomerKey(q.w, o.Encryption, ck)
	hd := q.w.Header()
	hd.Set("Accept-Ranges", "bytes")
	if strings.EqualFold(q.r.Header.Get("x-amz-checksum-mode"), "ENABLED") && !partial {
		setChecksumHeaders(q.w, o.Checksums, o.ChecksumType)
	}
	for param, header := range responseOverrides {
		if v := q.query.Get(param); v != "" {
			hd.Set(header, v)
		}
	}
	hd.Set("Content-Length", itoa64(length))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		hd.Set("Content-Range", "bytes "+itoa64(start)+"-"+itoa64(start+length-1)+"/"+itoa64(o.Size))
	}
	if head {
		q.w.WriteHeader(status)
		return nil
	}
	// The status line waits for the first bytes: an object that fails before them (damaged or
	// tampered data in its first megabyte, or a small object anywhere) is an error response,
	// not a connection cut short.
	out := &statusOnWrite{w: q.w, body: idleWriter{w: q.w, rc: q.rc, d: h.idle}, status: status}
	if _, err := rd.WriteRange(out, start, length); err != nil {
		if !out.started {
			return err
		}
		// The status line is out; all that is left is to cut the connection short so the
		// client sees a truncated body rather than a complete-looking one.
		h.log.Warn("streaming object failed", "request_id", q.id, "err", err)
		panic(http.ErrAbortHandler)
	}
	if !out.started {
		q.w.WriteHeader(status)
	}
	return nil
}

// statusOnWrite writes the status line just before the first bytes of the body.
type statusOnWrite struct {
	w       http.ResponseWriter
	body    io.Writer
	status  int
	started bool
}

func (s *statusOnWrite) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		s.w.WriteHeader(s.status)
	}
	return s.body.Write(p)
}

var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

// partRange is the byte run of part n of o. A single-PUT object has one part, the whole.
func partRange(o object.Object, n int) (start, length int64, err error) {
	if o.PartsCount == 0 {
		if n != 1 {
			return 0, 0, errPartNumberBeyond
		}
		return 0, o.Size, nil
	}
	if n > len(o.Parts) {
		return 0, 0, errPartNumberBeyond
	}
	for _, p := range o.Parts[:n-1] {
		start += p.Size
	}
	return start, o.Parts[n-1].Size, nil
}

// rangeError is an unsatisfiable range, carrying the object size for the error body.
type rangeError struct{ size int64 }

func (e *rangeError) Error() string { return "range not satisfiable" }
func (e *rangeError) Unwrap() error { return object.ErrInvalidRange }

// parseRange interprets a Range header against an object of the given size. A header that is
// not one well-formed byte range is ignored (ok == false, whole object), as S3 does.
func parseRange(h string, size int64) (start, length int64, ok bool, err error) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return 0, size, false, nil
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		n, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || n < 0 {
			return 0, size, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, &rangeError{size}
		}
		n = min(n, size)
		return size - n, n, true, nil
	}
	a, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || a < 0 {
		return 0, size, false, nil
	}
	b := size - 1
	if last != "" {
		if b, perr = strconv.ParseInt(last, 10, 64); perr != nil || b < a {
			return 0, size, false, nil
		}
	}
	if a >= size {
		return 0, 0, false, &rangeError{size}
	}
	b = min(b, size-1)
	return a, b - a + 1, true, nil
}

// checkConditions evaluates If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since (prefix "" for reads, "x-amz-copy-source-" for copy sources) with the
// precedence of RFC 7232 that S3 documents.
func checkConditions(h http.Header, o object.Object, prefix string) error {
	lm := o.LastModified.UTC().Truncate(time.Second)
	get := func(name string) string { return h.Get(prefix + name) }
	notModified := errNotModified
	if prefix != "" {
		notModified = errPreconditionFailed
	}
	if v := get("If-Match"); v != "" {
		if !object.ETagMatches(v, o.ETag) {
			return errPreconditionFailed
		}
	} else if v := get("If-Unmodified-Since"); v != "" {
		if t, ok := parseHTTPTime(v); ok && lm.After(t) {
			return errPreconditionFailed
		}
	}
	if v := get("If-None-Match"); v != "" {
		if object.ETagMatches(v, o.ETag) {
			return notModified
		}
	} else if v := get("If-Modified-Since"); v != "" {
		if t, ok := parseHTTPTime(v); ok && !lm.After(t) {
			return notModified
		}
	}
	return nil
}

// writeCondition reads If-Match / If-None-Match of a write. S3 supports only "*" in
// If-None-Match on writes.
func writeCondition(q *request) (object.WriteCondition, error) {
	c := object.WriteCondition{IfMatch: q.r.Header.Get("If-Match"), IfNoneMatch: q.r.Header.Get("If-None-Match")}
	if c.IfNoneMatch != "" && strings.TrimSpace(c.IfNoneMatch) != "*" {
		return c, &apiError{"NotImplemented", http.StatusNotImplemented, "A header you provided implies functionality that is not implemented: If-None-Match accepts only * on writes"}
	}
	return c, nil
}

func (h *Handler) deleteObject(q *request) error {
	cond := object.WriteCondition{IfMatch: q.r.Header.Get("If-Match")}
	if err := h.objects.DeleteObject(q.r.Context(), q.bucket, q.key, cond); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
