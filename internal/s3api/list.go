package s3api

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/coffer/coffer/internal/object"
)

// encodingType returns the key encoder that encoding-type asks for.
func encodingType(q *request) (func(string) string, error) {
	switch q.query.Get("encoding-type") {
	case "":
		return func(s string) string { return s }, nil
	case "url":
		return s3URLEncode, nil
	}
	return nil, errInvalidEncodingType
}

// s3URLEncode encodes a key as S3 does for encoding-type=url: percent-encoding as for a query
// value, with a space as "%20" (never "+", which decoders differ on) and "/" kept readable.
func s3URLEncode(s string) string {
	// QueryEscape writes a literal "+" as "%2B", so every "+" it leaves stands for a space.
	return strings.NewReplacer("+", "%20", "%2F", "/").Replace(url.QueryEscape(s))
}

func (h *Handler) listEntries(q *request, after string, fetchOwner bool) (object.ListPage, []objectEntry, []commonPrefix, func(string) string, int, error) {
	enc, err := encodingType(q)
	if err != nil {
		return object.ListPage{}, nil, nil, nil, 0, err
	}
	maxKeys, ok := intParam(q, "max-keys", 1000, 1000)
	if !ok {
		return object.ListPage{}, nil, nil, nil, 0, errMaxKeysInvalid
	}
	page, err := h.objects.List(q.r.Context(), q.bucket, object.ListInput{
		Prefix: q.query.Get("prefix"), Delimiter: q.query.Get("delimiter"), After: after, MaxKeys: maxKeys,
	})
	if err != nil {
		return page, nil, nil, nil, 0, err
	}
	entries := make([]objectEntry, 0, len(page.Objects))
	for _, o := range page.Objects {
		entries = append(entries, h.listEntry(o, enc, fetchOwner))
	}
	var cps []commonPrefix
	for _, p := range page.CommonPrefixes {
		cps = append(cps, commonPrefix{Prefix: enc(p)})
	}
	return page, entries, cps, enc, maxKeys, nil
}

func (h *Handler) listEntry(o object.Object, enc func(string) string, withOwner bool) objectEntry {
	e := objectEntry{Key: enc(o.Key), LastModified: xmlTime(o.LastModified), ETag: `"` + o.ETag + `"`, Size: o.Size, StorageClass: "STANDARD"}
	for a := range o.Checksums {
		e.ChecksumAlgorithm = append(e.ChecksumAlgorithm, a)
		e.ChecksumType = o.ChecksumType
	}
	if withOwner {
		e.Owner = ptr(h.ownerOf(o.Owner))
	}
	return e
}

func (h *Handler) listObjects(q *request) error {
	marker := q.query.Get("marker")
	page, entries, cps, enc, maxKeys, err := h.listEntries(q, marker, true)
	if err != nil {
		return err
	}
	res := listBucketResult{
		// S3 leaves ListObjects' Prefix as sent: botocore decodes every other element but that one.
		NS: s3NS, Name: q.bucket, Prefix: q.query.Get("prefix"), Marker: ptr(enc(marker)), MaxKeys: maxKeys,
		Delimiter: enc(q.query.Get("delimiter")), IsTruncated: page.Truncated, Contents: entries, CommonPrefixes: cps,
	}
	if q.query.Get("encoding-type") == "url" {
		res.EncodingType = "url"
	}
	if page.Truncated && q.query.Get("delimiter") != "" {
		// S3 returns NextMarker only with a delimiter; without one the last key is the marker.
		res.NextMarker = enc(page.Last)
	}
	return h.writeXML(q, http.StatusOK, res)
}

func ptr[T any](v T) *T { return &v }

func (h *Handler) listObjectsV2(q *request) error {
	after := q.query.Get("start-after")
	token := q.query.Get("continuation-token") // an empty token is no token, as in S3
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return errInvalidContinuation
		}
		after = string(raw)
	}
	page, entries, cps, enc, maxKeys, err := h.listEntries(q, after, q.query.Get("fetch-owner") == "true")
	if err != nil {
		return err
	}
	res := listBucketV2Result{
		NS: s3NS, Name: q.bucket, Prefix: enc(q.query.Get("prefix")), MaxKeys: maxKeys,
		KeyCount: len(entries) + len(cps), Delimiter: enc(q.query.Get("delimiter")),
		IsTruncated: page.Truncated, Contents: entries, CommonPrefixes: cps,
		StartAfter: enc(q.query.Get("start-after")),
	}
	res.ContinuationToken = token
	if q.query.Get("encoding-type") == "url" {
		res.EncodingType = "url"
	}
	if page.Truncated {
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(page.Last))
	}
	return h.writeXML(q, http.StatusOK, res)
}

// maxDeleteKeys is S3's limit on keys in one DeleteObjects request.
const maxDeleteKeys = 1000

func (h *Handler) deleteObjects(q *request) error {
	if _, err := h.objects.Bucket(q.r.Context(), q.bucket); err != nil {
		return err
	}
	if err := requireBodyDigest(q); err != nil {
		return err
	}
	body, err := readSmallBody(q, 2<<20)
	if err != nil {
		return err
	}
	entries, quiet, err := parseDelete(body)
	if err != nil {
		return err
	}
	res := deleteResult{NS: s3NS}
	conds := requestConditions(q) // the same for every key
	for _, d := range entries {
		var err error = errInvalidVersion
		if d.VersionID == "" || d.VersionID == "null" {
			err = h.deleteOne(q, conds, d.Key, d.ETag)
		}
		if err != nil {
			ae, _ := toAPIError(err)
			res.Errors = append(res.Errors, deleteErrorEntry{Key: d.Key, Code: ae.Code, Message: ae.Message})
			continue
		}
		if !quiet {
			res.Deleted = append(res.Deleted, deletedEntry{Key: d.Key})
		}
	}
	return h.writeXML(q, http.StatusOK, res)
}

// deleteOne deletes one key of DeleteObjects, which S3 authorizes key by key; conds are the
// request's condition keys (requestConditions).
func (h *Handler) deleteOne(q *request, conds map[string][]string, key, etag string) error {
	a := object.Access{Action: "s3:DeleteObject", Bucket: q.bucket, Key: key, Conditions: conds}
	if _, err := h.objects.Authorize(q.r.Context(), a); err != nil {
		return err
	}
	return h.objects.DeleteObject(q.r.Context(), q.bucket, key, object.WriteCondition{IfMatch: etag})
}

// requireBodyDigest refuses a request without Content-MD5 or a flexible checksum, for the
// operations S3 requires one of (DeleteObjects, PutBucketOwnershipControls).
func requireBodyDigest(q *request) error {
	if q.r.Header.Get("Content-MD5") == "" && !hasChecksumHeader(q.r.Header) {
		return &apiError{"InvalidRequest", http.StatusBadRequest, "Missing required header for this request: Content-MD5"}
	}
	return nil
}

// hasChecksumHeader reports a flexible checksum value given as header or announced as trailer;
// naming an algorithm (x-amz-sdk-checksum-algorithm) alone gives nothing to verify.
func hasChecksumHeader(h http.Header) bool {
	if h.Get("x-amz-trailer") != "" {
		return true
	}
	for _, a := range object.Algorithms {
		if h.Get("x-amz-checksum-"+strings.ToLower(a)) != "" {
			return true
		}
	}
	return false
}

// listObjectVersions answers ListObjectVersions for a bucket that never had versioning: each
// object is its one version, "null", and the latest.
func (h *Handler) listObjectVersions(q *request) error {
	keyMarker := q.query.Get("key-marker")
	if q.query.Get("version-id-marker") != "" && keyMarker == "" {
		return &apiError{"InvalidArgument", http.StatusBadRequest, "A version-id marker cannot be specified without a key marker."}
	}
	page, _, cps, enc, maxKeys, err := h.listEntries(q, keyMarker, false)
	if err != nil {
		return err
	}
	res := listVersionsResult{
		NS: s3NS, Name: q.bucket, Prefix: enc(q.query.Get("prefix")), KeyMarker: enc(keyMarker),
		VersionIDMarker: q.query.Get("version-id-marker"), MaxKeys: maxKeys,
		Delimiter: enc(q.query.Get("delimiter")), IsTruncated: page.Truncated, CommonPrefixes: cps,
	}
	if q.query.Get("encoding-type") == "url" {
		res.EncodingType = "url"
	}
	for _, o := range page.Objects {
		res.Versions = append(res.Versions, versionEntry{
			Key: enc(o.Key), VersionID: "null", IsLatest: true, LastModified: xmlTime(o.LastModified),
			ETag: `"` + o.ETag + `"`, Size: o.Size, Owner: h.ownerOf(o.Owner), StorageClass: "STANDARD",
		})
	}
	if page.Truncated {
		res.NextKeyMarker, res.NextVersionIDMarker = enc(page.Last), "null"
	}
	return h.writeXML(q, http.StatusOK, res)
}
