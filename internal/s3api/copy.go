package s3api

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coffer/coffer/internal/object"
)

// copySource reads the x-amz-copy-source header ("/bucket/key" or "bucket/key", URL-encoded,
// optionally with ?versionId=) and returns the source object once the caller may read it (s3:GetObject)
// and the x-amz-copy-source-if-* conditions, opened for reading; the caller closes the reader.
func (h *Handler) copySource(q *request) (object.Object, object.Reader, error) {
	raw := q.r.Header.Get("x-amz-copy-source")
	path, query, _ := strings.Cut(raw, "?")
	src, err := url.PathUnescape(path)
	if err != nil || !utf8.ValidString(src) {
		return object.Object{}, nil, errInvalidCopySourceEncoding
	}
	src = strings.TrimPrefix(src, "/")
	bucket, key, ok := strings.Cut(src, "/")
	if !ok || bucket == "" || key == "" {
		return object.Object{}, nil, errInvalidCopySource
	}
	if v, _ := url.ParseQuery(query); v.Get("versionId") != "" && v.Get("versionId") != "null" {
		return object.Object{}, nil, &apiError{"NoSuchVersion", http.StatusNotFound, "The specified version does not exist."}
	}
	if _, err := h.authorizeObject(q, "s3:GetObject", bucket, key); err != nil {
		return object.Object{}, nil, err
	}
	// An SSE-C source opens with its key; the open reader holds the object key it unsealed,
	// so the customer key is done with once the source is open.
	ck, err := parseCustomerKey(q, hdrCopySSEC)
	defer ck.Destroy()
	if err != nil {
		return object.Object{}, nil, err
	}
	if err := h.refuseSigV2KMSRead(q, bucket, key); err != nil {
		return object.Object{}, nil, err
	}
	o, rd, err := h.objects.OpenObject(q.r.Context(), bucket, key, ck)
	if err != nil {
		return object.Object{}, nil, err
	}
	if err := checkKMSRead(q, o.Encryption); err != nil {
		rd.Close()
		return object.Object{}, nil, err
	}
	if err := checkConditions(q.r.Header, o, "x-amz-copy-source-"); err != nil {
		rd.Close()
		return object.Object{}, nil, err
	}
	return o, rd, nil
}

func (h *Handler) copyObject(q *request) error {
	if _, err := h.writeTarget(q); err != nil {
		return err
	}
	enc, err := checkNewObject(q)
	defer enc.CustomerKey.Destroy()
	if err != nil {
		return err
	}
	src, rd, err := h.copySource(q)
	if err != nil {
		return err
	}
	defer rd.Close()
	if src.Size > object.MaxPutSize {
		return &apiError{"InvalidRequest", http.StatusBadRequest, "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120"}
	}
	directive := q.r.Header.Get("x-amz-metadata-directive")
	std, user := src.Headers, src.UserMeta
	switch directive {
	case "", "COPY":
		if src.Bucket == q.bucket && src.Key == q.key && enc.Algorithm == "" {
			return errCopyToItself
		}
	case "REPLACE":
		std, user = objectHeaders(q.r)
	default:
		return &apiError{"InvalidArgument", http.StatusBadRequest, "Unknown metadata directive."}
	}
	alg := object.NormalizeAlgorithm(q.r.Header.Get("x-amz-checksum-algorithm"))
	if alg == "" {
		for a := range src.Checksums {
			alg = a
		}
	}
	cond, err := writeCondition(q)
	if err != nil {
		return err
	}
	ctx := q.r.Context()
	o, err := h.objects.PutObject(ctx, object.PutInput{
		Bucket: q.bucket, Key: q.key, Owner: objectOwner(q),
		Body: io.NewSectionReader(rd, 0, src.Size), Size: src.Size,
		Headers: std, UserMeta: user, Expect: object.Expect{Algorithm: alg}, Condition: cond, SSE: enc,
	})
	if err != nil {
		return err
	}
	setSSEHeaders(q.w, o.Encryption)
	echoCustomerKey(q.w, o.Encryption, enc.CustomerKey)
	setSSEContextHeader(q.w, o.Encryption, o.Bucket, o.Key)
	res := copyObjectResult{NS: s3NS, ETag: `"` + o.ETag + `"`, LastModified: xmlTime(o.LastModified), checksumFields: toChecksumFields(o.Checksums)}
	if len(o.Checksums) > 0 {
		res.ChecksumType = o.ChecksumType
	}
	return h.writeXML(q, http.StatusOK, res)
}

func (h *Handler) uploadPartCopy(q *request) error {
	u, number, err := h.partTarget(q)
	if err != nil {
		return err
	}
	enc, err := checkSSEWrite(q)
	defer enc.CustomerKey.Destroy()
	if err != nil {
		return err
	}
	src, rd, err := h.copySource(q)
	if err != nil {
		return err
	}
	defer rd.Close()
	start, length := int64(0), src.Size
	if rh := q.r.Header.Get("x-amz-copy-source-range"); rh != "" {
		if start, length, err = parseCopyRange(rh, src.Size); err != nil {
			return err
		}
	}
	if length > object.MaxPutSize {
		return errEntityTooLarge
	}
	ctx := q.r.Context()
	p, err := h.objects.UploadPart(ctx, u, number, io.NewSectionReader(rd, start, length), length, object.Expect{}, enc.CustomerKey)
	if err != nil {
		return err
	}
	setSSEHeaders(q.w, u.Encryption)
	echoCustomerKey(q.w, u.Encryption, enc.CustomerKey)
	return h.writeXML(q, http.StatusOK, copyPartResult{NS: s3NS, ETag: `"` + p.ETag + `"`, LastModified: xmlTime(p.LastModified), checksumFields: toChecksumFields(p.Checksums)})
}

// parseCopyRange parses x-amz-copy-source-range, which must be "bytes=first-last": a
// malformed range is InvalidArgument, one reaching past the source object InvalidRange (400,
// not the 416 of a GET).
func parseCopyRange(v string, size int64) (start, length int64, err error) {
	malformed := &apiError{"InvalidArgument", http.StatusBadRequest, "Range specified is not valid for source object of size: " + itoa64(size)}
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found {
		return 0, 0, malformed
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, malformed
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, malformed
	}
	if last >= size {
		return 0, 0, errCopyRangeBeyond
	}
	return first, last - first + 1, nil
}
