package s3api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer/coffer/internal/object"
)

func (h *Handler) createUpload(q *request) error {
	if _, err := h.writeTarget(q); err != nil {
		return err
	}
	enc, err := checkNewObject(q)
	defer enc.CustomerKey.Destroy()
	if err != nil {
		return err
	}
	std, user := objectHeaders(q.r)
	alg := q.r.Header.Get("x-amz-checksum-algorithm")
	canon := object.NormalizeAlgorithm(alg)
	if alg != "" && canon == "" {
		return &apiError{"InvalidRequest", http.StatusBadRequest, "Checksum algorithm provided is unsupported."}
	}
	ctype := strings.ToUpper(q.r.Header.Get("x-amz-checksum-type"))
	if ctype != "" && ctype != object.FullObject && ctype != object.Composite {
		return &apiError{"InvalidRequest", http.StatusBadRequest, "Value for x-amz-checksum-type header is invalid."}
	}
	u, err := h.objects.CreateUpload(q.r.Context(), object.CreateUploadInput{
		Bucket: q.bucket, Key: q.key, Owner: objectOwner(q), Headers: std, UserMeta: user,
		ChecksumAlgorithm: canon, ChecksumType: ctype, SSE: enc,
	})
	if err != nil {
		return err
	}
	setSSEHeaders(q.w, u.Encryption)
	echoCustomerKey(q.w, u.Encryption, enc.CustomerKey)
	setSSEContextHeader(q.w, u.Encryption, u.Bucket, u.Key)
	if u.ChecksumAlgorithm != "" {
		q.w.Header().Set("x-amz-checksum-algorithm", u.ChecksumAlgorithm)
		q.w.Header().Set("x-amz-checksum-type", u.ChecksumType)
	}
	return h.writeXML(q, http.StatusOK, initiateMultipartUploadResult{NS: s3NS, Bucket: q.bucket, Key: q.key, UploadID: u.UploadID})
}

// partTarget resolves the upload and part number of UploadPart and UploadPartCopy.
func (h *Handler) partTarget(q *request) (object.Upload, int, error) {
	number, err := strconv.Atoi(q.query.Get("partNumber"))
	if err != nil || number < 1 || number > object.MaxPartNumber {
		return object.Upload{}, 0, errInvalidPartNumber
	}
	u, err := h.upload(q)
	return u, number, err
}

// upload returns the upload named by the uploadId parameter, in a bucket the caller owns.
func (h *Handler) upload(q *request) (object.Upload, error) {
	return h.objects.Upload(q.r.Context(), q.bucket, q.key, q.query.Get("uploadId"))
}

func (h *Handler) uploadPart(q *request) error {
	u, number, err := h.partTarget(q)
	if err != nil {
		return err
	}
	// The upload fixed the encryption; an SSE header on a part is ignored, as MinIO does. A
	// customer key is checked against the upload's.
	size, e, enc, err := uploadBody(q)
	defer enc.CustomerKey.Destroy()
	if err != nil {
		return err
	}
	p, err := h.objects.UploadPart(q.r.Context(), u, number, q.body, size, e, enc.CustomerKey)
	if err != nil {
		return err
	}
	setSSEHeaders(q.w, u.Encryption)
	echoCustomerKey(q.w, u.Encryption, enc.CustomerKey)
	q.w.Header().Set("ETag", `"`+p.ETag+`"`)
	setChecksumHeaders(q.w, p.Checksums, "")
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) completeUpload(q *request) error {
	u, err := h.upload(q)
	// An upload that is gone may have been completed by this very request's first attempt.
	ctx := q.r.Context()
	retry := errors.Is(err, object.ErrNoSuchUpload)
	var done object.Object
	if retry {
		done, err = h.objects.CompletedBy(ctx, q.bucket, q.key, q.query.Get("uploadId"))
	}
	if err != nil {
		return err
	}
	// The x-amz-checksum-* header of a completion is the checksum of the whole object, checked
	// by Complete; the XML body itself is checked only against Content-MD5.
	e, err := expectFromRequest(q)
	if err != nil {
		return err
	}
	body, err := readBodyExpecting(q, 4<<20, object.Expect{ContentMD5: e.ContentMD5})
	if err != nil {
		return err
	}
	list, err := parseComplete(body)
	if err != nil {
		return err
	}
	cond, err := writeCondition(q)
	if err != nil {
		return err
	}
	// The customer key is optional on completion; one that is sent must be the upload's.
	ck, err := parseCustomerKey(q, hdrSSECPrefix)
	defer ck.Destroy()
	if err != nil {
		return err
	}
	o := done
	if retry {
		err = object.SameCompletion(done, list)
	} else {
		full := ""
		if u.ChecksumAlgorithm != "" {
			full = q.r.Header.Get("x-amz-checksum-" + strings.ToLower(u.ChecksumAlgorithm))
		}
		o, err = h.objects.Complete(ctx, u, list, full, cond, ck)
	}
	if err != nil {
		return err
	}
	res := completeMultipartUploadResult{
		NS: s3NS, Location: "/" + q.bucket + "/" + q.key, Bucket: q.bucket, Key: q.key,
		ETag: `"` + o.ETag + `"`, checksumFields: toChecksumFields(o.Checksums),
	}
	if len(o.Checksums) > 0 {
		res.ChecksumType = o.ChecksumType
	}
	setSSEHeaders(q.w, o.Encryption)
	echoCustomerKey(q.w, o.Encryption, ck)
	return h.writeXML(q, http.StatusOK, res)
}

func (h *Handler) abortUpload(q *request) error {
	if err := h.objects.Abort(q.r.Context(), q.bucket, q.key, q.query.Get("uploadId")); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// intParam reads an optional non-negative integer query parameter with a default and cap.
func intParam(q *request, name string, def, max int) (int, bool) {
	return parseCount(q.query.Get(name), def, max)
}

// parseCount reads an optional non-negative integer (a query parameter or header value):
// def when empty, capped at max, false when malformed.
func parseCount(v string, def, max int) (int, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return min(n, max), true
}

func (h *Handler) listParts(q *request) error {
	u, err := h.upload(q)
	if err != nil {
		return err
	}
	ctx := q.r.Context()
	maxParts, ok := intParam(q, "max-parts", 1000, 1000)
	if !ok {
		return &apiError{"InvalidArgument", http.StatusBadRequest, "Argument max-parts must be an integer between 0 and 2147483647"}
	}
	marker, ok := intParam(q, "part-number-marker", 0, object.MaxPartNumber)
	if !ok {
		return &apiError{"InvalidArgument", http.StatusBadRequest, "Argument part-number-marker must be an integer between 0 and 2147483647"}
	}
	parts, err := h.objects.Parts(ctx, u, marker, maxParts+1)
	if err != nil {
		return err
	}
	res := listPartsResult{
		NS: s3NS, Bucket: q.bucket, Key: q.key, UploadID: u.UploadID,
		Initiator: h.ownerOf(u.Owner), Owner: h.ownerOf(u.Owner), StorageClass: "STANDARD",
		PartNumberMarker: marker, MaxParts: maxParts, ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: u.ChecksumType,
	}
	if len(parts) > maxParts {
		parts, res.IsTruncated = parts[:maxParts], true
	}
	for _, p := range parts {
		res.Parts = append(res.Parts, partEntry{PartNumber: p.Number, LastModified: xmlTime(p.LastModified), ETag: `"` + p.ETag + `"`, Size: p.Size, checksumFields: toChecksumFields(p.Checksums)})
		res.NextPartNumberMarker = p.Number
	}
	return h.writeXML(q, http.StatusOK, res)
}

func (h *Handler) listUploads(q *request) error {
	maxUploads, ok := intParam(q, "max-uploads", 1000, 1000)
	if !ok {
		return &apiError{"InvalidArgument", http.StatusBadRequest, "Argument max-uploads must be an integer between 0 and 2147483647"}
	}
	enc, err := encodingType(q)
	if err != nil {
		return err
	}
	prefix, delim := q.query.Get("prefix"), q.query.Get("delimiter")
	keyMarker, idMarker := q.query.Get("key-marker"), q.query.Get("upload-id-marker")
	if keyMarker == "" {
		idMarker = ""
	}
	res := listMultipartUploadsResult{
		NS: s3NS, Bucket: q.bucket, KeyMarker: enc(keyMarker), UploadIDMarker: idMarker,
		Prefix: enc(prefix), Delimiter: enc(delim), MaxUploads: maxUploads,
	}
	if enc("%") != "%" {
		res.EncodingType = "url"
	}
	after, afterID := keyMarker, idMarker
	if idMarker == "" && keyMarker != "" {
		// A key marker alone lists uploads of later keys only.
		after, afterID = keyMarker, "\xff"
	}
	if cp, ok := object.CommonPrefix(keyMarker, prefix, delim); ok && cp == keyMarker {
		// The marker is a common prefix returned by the last page: skip all of it.
		after, afterID = keyMarker+"\xff", ""
	}
	count := 0
	ctx := q.r.Context()
	for !res.IsTruncated {
		batch, err := h.objects.Uploads(ctx, q.bucket, object.ListOptions{Prefix: prefix, After: after, Limit: pageBatch(maxUploads - count + 1)}, afterID)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		for _, u := range batch {
			if count == maxUploads {
				res.IsTruncated = true
				break
			}
			count++
			if cp, ok := object.CommonPrefix(u.Key, prefix, delim); ok {
				res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: enc(cp)})
				res.NextKeyMarker, res.NextUploadIDMarker = enc(cp), ""
				// Re-seek past every upload under the prefix.
				after, afterID = cp+"\xff", ""
				break
			}
			res.Uploads = append(res.Uploads, uploadEntry{
				Key: enc(u.Key), UploadID: u.UploadID, Initiator: h.ownerOf(u.Owner), Owner: h.ownerOf(u.Owner),
				StorageClass: "STANDARD", Initiated: xmlTime(u.Initiated), ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: u.ChecksumType,
			})
			res.NextKeyMarker, res.NextUploadIDMarker = enc(u.Key), u.UploadID
			after, afterID = u.Key, u.UploadID
		}
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextUploadIDMarker = "", ""
	}
	return h.writeXML(q, http.StatusOK, res)
}

func pageBatch(n int) int { return max(1, min(n, 1000)) }
