package s3api

import (
	"io"
	"net/http"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/object"
)

func (h *Handler) listBuckets(q *request) error {
	bs, err := h.objects.ListBuckets(q.r.Context(), q.principal.AccountID)
	if err != nil {
		return err
	}
	res := listAllMyBucketsResult{NS: s3NS, Owner: owner{ID: q.principal.AccountID}, Buckets: []bucketInfo{}}
	for _, b := range bs {
		res.Buckets = append(res.Buckets, bucketInfo{Name: b.Name, CreationDate: xmlTime(b.Created), BucketRegion: h.bucketRegion(b)})
	}
	return h.writeXML(q, http.StatusOK, res)
}

func (h *Handler) bucketRegion(b meta.Bucket) string {
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
	if err := h.objects.CreateBucket(q.r.Context(), q.principal.AccountID, q.bucket, region, ownership); err != nil {
		return err
	}
	q.w.Header().Set("Location", "/"+q.bucket)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// ownedBucket returns the bucket if the caller's account owns it. Another account's bucket
// answers AccessDenied, as in S3 without a bucket policy granting access.
func (h *Handler) ownedBucket(q *request) (meta.Bucket, error) {
	b, err := h.objects.Bucket(q.r.Context(), q.bucket)
	if err != nil {
		return b, err
	}
	if b.Owner != q.principal.AccountID {
		return b, errAccessDenied
	}
	return b, nil
}

func (h *Handler) headBucket(q *request) error {
	b, err := h.ownedBucket(q)
	if err != nil {
		return err
	}
	q.w.Header().Set("x-amz-bucket-region", h.bucketRegion(b))
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteBucket(q *request) error {
	if _, err := h.ownedBucket(q); err != nil {
		return err
	}
	if err := h.objects.DeleteBucket(q.r.Context(), q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) getBucketLocation(q *request) error {
	b, err := h.ownedBucket(q)
	if err != nil {
		return err
	}
	return h.writeXML(q, http.StatusOK, locationConstraint{NS: s3NS, Value: b.Region})
}

// getBucketVersioning reports versioning as never enabled, which is what Coffer stores; tools
// such as `aws s3 sync` ask before they write.
func (h *Handler) getBucketVersioning(q *request) error {
	if _, err := h.ownedBucket(q); err != nil {
		return err
	}
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
