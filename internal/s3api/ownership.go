package s3api

import (
	"encoding/xml"
	"net/http"

	"github.com/coffer/coffer/internal/object"
)

// Bucket ownership controls (S3 Object Ownership), kept in the bucket's metadata record so
// every node serving the bucket sees the same setting. See package object for what each
// setting means here.

type ownershipControls struct {
	XMLName xml.Name        `xml:"OwnershipControls"`
	NS      string          `xml:"xmlns,attr,omitempty"`
	Rules   []ownershipRule `xml:"Rule"`
}

type ownershipRule struct {
	ObjectOwnership string `xml:"ObjectOwnership"`
}

func newOwnershipControls(setting string) ownershipControls {
	return ownershipControls{NS: s3NS, Rules: []ownershipRule{{setting}}}
}

// parseOwnershipControls returns the setting of an OwnershipControls document: exactly one
// rule naming one of the three settings.
func parseOwnershipControls(body []byte) (string, error) {
	var c ownershipControls
	if err := xml.Unmarshal(body, &c); err != nil || len(c.Rules) != 1 || !object.ValidOwnership(c.Rules[0].ObjectOwnership) {
		return "", errMalformedXML
	}
	return c.Rules[0].ObjectOwnership, nil
}

func (h *Handler) getOwnershipControls(q *request) error {
	b := q.target
	setting, err := object.Ownership(b)
	if err != nil {
		return err
	}
	return h.writeXML(q, http.StatusOK, newOwnershipControls(setting))
}

func (h *Handler) putOwnershipControls(q *request) error {
	if err := requireBodyDigest(q); err != nil {
		return err
	}
	body, err := readSmallBody(q, 64<<10)
	if err != nil {
		return err
	}
	setting, err := parseOwnershipControls(body)
	if err != nil {
		return err
	}
	// S3 refuses BucketOwnerEnforced while the bucket's ACL grants anyone but the owner
	// (InvalidBucketAclWithObjectOwnership); Coffer's bucket ACLs never do.
	if err := h.objects.SetOwnership(q.r.Context(), q.bucket, setting); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteOwnershipControls(q *request) error {
	if err := h.objects.DeleteOwnership(q.r.Context(), q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
