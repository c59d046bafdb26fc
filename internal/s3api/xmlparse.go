package s3api

import (
	"encoding/xml"

	"github.com/coffer/coffer/internal/object"
)

// The request bodies S3 clients send, parsed strictly enough that any input either yields a
// well-formed value or errMalformedXML: never a panic, never a partial result.

// parseCreateBucket returns the LocationConstraint of a CreateBucketConfiguration ("" for an
// empty body).
func parseCreateBucket(body []byte) (string, error) {
	if len(body) == 0 {
		return "", nil
	}
	var cfg createBucketConfiguration
	if err := xml.Unmarshal(body, &cfg); err != nil {
		return "", errMalformedXML
	}
	return cfg.LocationConstraint, nil
}

// parseComplete returns the part list of a CompleteMultipartUpload body.
func parseComplete(body []byte) ([]object.CompletedPart, error) {
	var req completeMultipartUpload
	if err := xml.Unmarshal(body, &req); err != nil {
		return nil, errMalformedXML
	}
	if len(req.Parts) > object.MaxPartNumber {
		return nil, errMalformedXML
	}
	list := make([]object.CompletedPart, 0, len(req.Parts))
	for _, p := range req.Parts {
		list = append(list, object.CompletedPart{Number: p.PartNumber, ETag: p.ETag, Checksums: fromChecksumFields(p.checksumFields)})
	}
	return list, nil
}

// deleteEntry is one object of a DeleteObjects request.
type deleteEntry struct {
	Key       string
	VersionID string // "" or "null" are the only versions there are
	ETag      string // delete only if the object's ETag is this (conditional delete)
}

// parseDelete returns the entries and quiet flag of a DeleteObjects body: 1 to 1000 keys.
func parseDelete(body []byte) (entries []deleteEntry, quiet bool, err error) {
	var req deleteRequest
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Objects) == 0 || len(req.Objects) > maxDeleteKeys {
		return nil, false, errMalformedXML
	}
	for _, o := range req.Objects {
		entries = append(entries, deleteEntry{Key: o.Key, VersionID: o.VersionID, ETag: o.ETag})
	}
	return entries, req.Quiet, nil
}
