package s3api

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer/coffer/internal/object"
)

// maxBucketsPage is S3's page size for ListBuckets once a paging parameter is given.
const maxBucketsPage = 10000

var errMaxBucketsInvalid = &apiError{"InvalidArgument", http.StatusBadRequest, "Argument max-buckets must be an integer between 1 and 10000"}

// listBuckets lists the caller's buckets by name. Without any paging parameter it returns them
// all, as S3 did before paging; with max-buckets, continuation-token, prefix or bucket-region
// it returns pages of at most max-buckets (default 10,000), and a continuation token while
// more follow.
func (h *Handler) listBuckets(q *request) error {
	prefix, region := q.query.Get("prefix"), q.query.Get("bucket-region")
	paged := q.has("max-buckets") || q.has("continuation-token") || q.has("prefix") || q.has("bucket-region")
	limit := maxBucketsPage
	if v := q.query.Get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxBucketsPage {
			return errMaxBucketsInvalid
		}
		limit = n
	}
	after := ""
	if token := q.query.Get("continuation-token"); token != "" { // an empty token is none
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return errInvalidContinuation
		}
		after = string(raw)
	}
	bs, err := h.objects.ListBuckets(q.r.Context(), q.principal.AccountID)
	if err != nil {
		return err
	}
	res := listAllMyBucketsResult{NS: s3NS, Owner: h.ownerOf(q.principal.AccountID), Buckets: []bucketInfo{}, Prefix: prefix}
	for _, b := range bs {
		switch {
		case b.Name <= after, !strings.HasPrefix(b.Name, prefix), region != "" && h.bucketRegion(b) != region:
			continue
		case paged && len(res.Buckets) == limit:
			res.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.Buckets[limit-1].Name))
			return h.writeXML(q, http.StatusOK, res)
		}
		res.Buckets = append(res.Buckets, bucketInfo{Name: b.Name, CreationDate: xmlTime(b.Created), BucketRegion: h.bucketRegion(b)})
	}
	return h.writeXML(q, http.StatusOK, res)
}

func (h *Handler) bucketRegion(b object.Bucket) string {
	if b.Region == "" {
		return "us-east-1"
	}
	return b.Region
}

func (h *Handler) createBucket(q *request) error {
	ownership, err := checkBucketCreateOptions(q)
	if err != nil {
		return err
	}
	body, err := readSmallBody(q, 64<<10)
	if err != nil {
		return err
	}
	region, err := parseCreateBucket(body)
	if err != nil {
		return err
	}
	switch {
	case region == "" && h.region != "us-east-1":
		return errIllegalLocation
	case region == "us-east-1" && h.region == "us-east-1":
		return errInvalidLocation
	case region != "" && region != h.region:
		return errIllegalLocation
	}
	err = h.objects.CreateBucket(q.r.Context(), q.principal.AccountID, q.bucket, region, ownership)
	if errors.Is(err, object.ErrBucketAlreadyOwnedByYou) && h.region == "us-east-1" {
		// S3's legacy answer in us-east-1: creating a bucket you own succeeds and changes nothing.
		err = nil
	}
	if err != nil {
		return err
	}
	q.w.Header().Set("Location", "/"+q.bucket)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// writeTarget returns the bucket a write creating an object (PutObject, POST, CopyObject,
// CreateMultipartUpload) goes to, once the checks that depend on the bucket passed: its
// ownership allows the ACL asked for, and it does not block SSE-C if the write asks for it.
func (h *Handler) writeTarget(q *request) (object.Bucket, error) {
	b := q.target
	if err := checkWriteACL(q, b); err != nil {
		return object.Bucket{}, err
	}
	return b, checkSSECAllowed(q, b)
}

// objectOwner is the account that owns an object the request writes: the bucket owner while
// ACLs are disabled (BucketOwnerEnforced, S3's default) or the writer is anonymous, else the
// writer's account.
func objectOwner(q *request) string {
	if !object.ACLsEnabled(q.target) || q.principal.AccountID == "" {
		return q.target.Owner
	}
	return q.principal.AccountID
}

func (h *Handler) headBucket(q *request) error {
	b := q.target
	q.w.Header().Set("x-amz-bucket-region", h.bucketRegion(b))
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteBucket(q *request) error {
	if err := h.objects.DeleteBucket(q.r.Context(), q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) getBucketLocation(q *request) error {
	b := q.target
	return h.writeXML(q, http.StatusOK, locationConstraint{NS: s3NS, Value: b.Region})
}

// getBucketVersioning reports versioning as never enabled, which is what Coffer stores; tools
// such as `aws s3 sync` ask before they write.
func (h *Handler) getBucketVersioning(q *request) error {
	return h.writeXML(q, http.StatusOK, versioningConfiguration{NS: s3NS})
}

// readSmallBody reads a request body of at most limit bytes (an XML document) and checks the
// Content-MD5 or flexible checksum that came with it.
func readSmallBody(q *request, limit int64) ([]byte, error) {
	e, err := expectFromRequest(q)
	if err != nil {
		return nil, err
	}
	return readBodyExpecting(q, limit, e)
}

// readBodyExpecting reads a body of at most limit bytes and checks it against e.
func readBodyExpecting(q *request, limit int64, e object.Expect) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(q.body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, errRequestBodyTooLarge
	}
	if err := verifyBytes(body, e); err != nil {
		return nil, err
	}
	return body, nil
}
