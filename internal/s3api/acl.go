package s3api

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/coffer/coffer/internal/object"
)

// ACLs as S3 has them under Object Ownership (see package object): every bucket and object is
// the owning account's alone, so the only ACL there is grants that account FULL_CONTROL.
// Reads answer that ACL. A write may restate it (a canned private or
// bucket-owner-full-control, or the owner's FULL_CONTROL spelt out) and is refused if it asks
// for more, since nothing else could be honoured. Setting an ACL through ?acl follows S3: a
// bucket with ACLs disabled (BucketOwnerEnforced) refuses every such request.

var (
	errACLs         = &apiError{"AccessControlListNotSupported", http.StatusBadRequest, "The bucket does not allow ACLs"}
	errBucketACLs   = &apiError{"InvalidBucketAclWithObjectOwnership", http.StatusBadRequest, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"}
	errOwnerOnlyACL = &apiError{"AccessControlListNotSupported", http.StatusBadRequest, "This server supports only ACLs that grant the owner full control and nobody else"}

	errMalformedACL       = &apiError{"MalformedACLError", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema"}
	errUnexpectedContent  = &apiError{"UnexpectedContent", http.StatusBadRequest, "This request does not support content"}
	errMissingSecurityHdr = &apiError{"MissingSecurityHeader", http.StatusBadRequest, "Your request was missing a required header"}
	errCannedAndGrants    = &apiError{"InvalidRequest", http.StatusBadRequest, "Specifying both Canned ACLs and Header Grants is not allowed"}
	errInvalidGrantHeader = &apiError{"InvalidArgument", http.StatusBadRequest, "Invalid grant header: grantees must be given as id=, uri= or emailAddress= separated by commas"}
)

const xsiNS = "http://www.w3.org/2001/XMLSchema-instance"

// aclGrantee is a canonical user granted a permission: an owner with its xsi:type.
type aclGrantee struct {
	XMLNSXSI string `xml:"xmlns:xsi,attr"`
	Type     string `xml:"xsi:type,attr"`
	owner
}

type aclGrant struct {
	Grantee    aclGrantee `xml:"Grantee"`
	Permission string     `xml:"Permission"`
}

type accessControlPolicy struct {
	XMLName xml.Name   `xml:"AccessControlPolicy"`
	NS      string     `xml:"xmlns,attr"`
	Owner   owner      `xml:"Owner"`
	Grants  []aclGrant `xml:"AccessControlList>Grant"`
}

// ownerOnlyACL is the ACL of every bucket and object: the owner's full control (o, built by
// Handler.ownerOf).
func ownerOnlyACL(o owner) accessControlPolicy {
	g := aclGrant{Grantee: aclGrantee{XMLNSXSI: xsiNS, Type: "CanonicalUser", owner: o}, Permission: "FULL_CONTROL"}
	return accessControlPolicy{NS: s3NS, Owner: o, Grants: []aclGrant{g}}
}

// aclAsked is what a request's ACL asks for.
type aclAsked int

const (
	aclNone      aclAsked = iota // no ACL given
	aclOwnerOnly                 // the owner's full control and nothing else: what there is
	aclOthers                    // anything more, or less, than that
)

var grantHeaders = []string{"x-amz-grant-full-control", "x-amz-grant-read", "x-amz-grant-read-acp", "x-amz-grant-write", "x-amz-grant-write-acp"}

// headerACL reads the canned x-amz-acl or the x-amz-grant-* headers; owner is the account that
// owns the bucket or object.
func headerACL(h http.Header, owner string) (aclAsked, error) {
	canned := h.Get("x-amz-acl")
	grants := false
	for _, name := range grantHeaders {
		grants = grants || h.Get(name) != ""
	}
	switch {
	case canned != "" && grants:
		return aclNone, errCannedAndGrants
	case canned == "private" || canned == "bucket-owner-full-control":
		return aclOwnerOnly, nil
	case canned != "":
		return aclOthers, nil
	case !grants:
		return aclNone, nil
	}
	asked := aclOwnerOnly
	for _, name := range grantHeaders {
		v := h.Get(name)
		if v == "" {
			continue
		}
		grantees, err := parseGrantees(v)
		if err != nil {
			return aclNone, err
		}
		for _, g := range grantees {
			if name != "x-amz-grant-full-control" || g != "id="+owner {
				asked = aclOthers
			}
		}
	}
	return asked, nil
}

// parseGrantees splits a grant header (id="a", uri="b", emailAddress="c") into type=value
// pairs with the quotes removed.
func parseGrantees(v string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(v, ",") {
		typ, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if !ok || val == "" || strings.ContainsRune(val, '"') || (typ != "id" && typ != "uri" && typ != "emailAddress") {
			return nil, errInvalidGrantHeader
		}
		out = append(out, typ+"="+val)
	}
	return out, nil
}

// aclInput is an AccessControlPolicy as a client sends it.
type aclInput struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   *struct {
		ID string `xml:"ID"`
	} `xml:"Owner"`
	Lists []struct {
		Grants []struct {
			Grantee *struct {
				Type  string `xml:"type,attr"` // xsi:type
				ID    string `xml:"ID"`
				URI   string `xml:"URI"`
				Email string `xml:"EmailAddress"`
			} `xml:"Grantee"`
			Permission string `xml:"Permission"`
		} `xml:"Grant"`
	} `xml:"AccessControlList"`
}

var aclPermissions = map[string]bool{"FULL_CONTROL": true, "READ": true, "WRITE": true, "READ_ACP": true, "WRITE_ACP": true}

// bodyACL parses an AccessControlPolicy document for a bucket or object of owner. A document
// that does not follow S3's schema is MalformedACLError; one naming another owner is refused.
func bodyACL(body []byte, owner string) (aclAsked, error) {
	var in aclInput
	if err := xml.Unmarshal(body, &in); err != nil || in.Owner == nil || in.Owner.ID == "" || len(in.Lists) > 1 {
		return aclNone, errMalformedACL
	}
	if in.Owner.ID != owner {
		return aclNone, errAccessDenied
	}
	asked := aclOthers // an empty list takes the owner's own grant away
	if len(in.Lists) == 1 {
		for _, g := range in.Lists[0].Grants {
			ge := g.Grantee
			if ge == nil || !aclPermissions[g.Permission] {
				return aclNone, errMalformedACL
			}
			switch {
			case ge.Type == "CanonicalUser" && ge.ID != "":
			case ge.Type == "Group" && ge.URI != "":
			case ge.Type == "AmazonCustomerByEmail" && ge.Email != "":
			default:
				return aclNone, errMalformedACL
			}
			if ge.Type != "CanonicalUser" || ge.ID != owner || g.Permission != "FULL_CONTROL" {
				return aclOthers, nil
			}
			asked = aclOwnerOnly
		}
	}
	return asked, nil
}

// checkWriteACL refuses an ACL on a write creating an object in b (PutObject, CopyObject,
// CreateMultipartUpload) unless it is the owner's full control, as S3 does with ACLs disabled.
func checkWriteACL(q *request, b object.Bucket) error {
	asked, err := headerACL(q.r.Header, b.Owner)
	if err != nil || asked != aclOthers {
		return err
	}
	if object.ACLsEnabled(b) {
		return errOwnerOnlyACL
	}
	return errACLs
}

// checkCreateBucketACL refuses an ACL on CreateBucket other than the owner's full control; S3
// refuses it so when the new bucket's ownership (given, or its default) disables ACLs.
func checkCreateBucketACL(q *request, ownership string) error {
	asked, err := headerACL(q.r.Header, q.principal.AccountID)
	if err != nil || asked != aclOthers {
		return err
	}
	if ownership == "" || ownership == object.OwnershipEnforced {
		return errBucketACLs
	}
	return errOwnerOnlyACL
}

// aclToSet reads the ACL of a PutBucketAcl or PutObjectAcl: from headers or from the body,
// never both, and refuses it as S3 does for the bucket's Object Ownership.
func aclToSet(q *request, b object.Bucket) error {
	owner := b.Owner // under any Object Ownership setting, of every object too
	body, err := readSmallBody(q, 64<<10)
	if err != nil {
		return err
	}
	asked, err := headerACL(q.r.Header, owner)
	switch {
	case err != nil:
		return err
	case asked != aclNone && len(body) > 0:
		return errUnexpectedContent
	case asked == aclNone && len(body) == 0:
		return errMissingSecurityHdr
	case asked == aclNone:
		if asked, err = bodyACL(body, owner); err != nil {
			return err
		}
	}
	switch {
	case !object.ACLsEnabled(b):
		return errACLs
	case asked != aclOwnerOnly:
		return errOwnerOnlyACL
	}
	return nil // the owner-only ACL asked for is the one there is
}

func (h *Handler) getBucketACL(q *request) error {
	b := q.target
	return h.writeXML(q, http.StatusOK, ownerOnlyACL(h.ownerOf(b.Owner)))
}

func (h *Handler) putBucketACL(q *request) error {
	b := q.target
	if err := aclToSet(q, b); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getObjectACL(q *request) error {
	b := q.target
	if _, err := h.objects.Head(q.r.Context(), q.bucket, q.key); err != nil {
		return err
	}
	return h.writeXML(q, http.StatusOK, ownerOnlyACL(h.ownerOf(b.Owner)))
}

func (h *Handler) putObjectACL(q *request) error {
	b := q.target
	if _, err := h.objects.Head(q.r.Context(), q.bucket, q.key); err != nil {
		return err
	}
	if err := aclToSet(q, b); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}
