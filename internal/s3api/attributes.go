package s3api

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/coffer/coffer/internal/object"
)

type attributesChecksum struct {
	checksumFields
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

type attributesPart struct {
	PartNumber int   `xml:"PartNumber"`
	Size       int64 `xml:"Size"`
	checksumFields
}

type attributesParts struct {
	TotalPartsCount      int              `xml:"PartsCount"` // the model's wire name for TotalPartsCount
	PartNumberMarker     int              `xml:"PartNumberMarker"`
	NextPartNumberMarker int              `xml:"NextPartNumberMarker"`
	MaxParts             int              `xml:"MaxParts"`
	IsTruncated          bool             `xml:"IsTruncated"`
	Parts                []attributesPart `xml:"Part"`
}

type getObjectAttributesResponse struct {
	XMLName      xml.Name            `xml:"GetObjectAttributesResponse"`
	NS           string              `xml:"xmlns,attr"`
	ETag         string              `xml:"ETag,omitempty"`
	Checksum     *attributesChecksum `xml:"Checksum,omitempty"`
	ObjectParts  *attributesParts    `xml:"ObjectParts,omitempty"`
	StorageClass string              `xml:"StorageClass,omitempty"`
	ObjectSize   *int64              `xml:"ObjectSize,omitempty"`
}

// getObjectAttributes answers GetObjectAttributes: the attributes named in
// x-amz-object-attributes, ObjectParts only for multipart objects (with their part checksums),
// the ETag unquoted as S3 gives it there.
func (h *Handler) getObjectAttributes(q *request) error {
	ck, err := checkSSERead(q)
	defer ck.Destroy()
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, v := range q.r.Header.Values("x-amz-object-attributes") {
		for _, a := range strings.Split(v, ",") {
			switch a = strings.TrimSpace(a); a {
			case "ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize":
				want[a] = true
			case "":
			default:
				return &apiError{"InvalidArgument", http.StatusBadRequest, "Invalid attribute name specified."}
			}
		}
	}
	if len(want) == 0 {
		return &apiError{"InvalidArgument", http.StatusBadRequest, "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty"}
	}
	maxParts, ok := parseCount(q.r.Header.Get("x-amz-max-parts"), 1000, 1000)
	if !ok {
		return &apiError{"InvalidArgument", http.StatusBadRequest, "Argument max-parts must be an integer between 0 and 2147483647"}
	}
	marker, ok := parseCount(q.r.Header.Get("x-amz-part-number-marker"), 0, object.MaxPartNumber)
	if !ok {
		return &apiError{"InvalidArgument", http.StatusBadRequest, "Argument part-number-marker must be an integer between 0 and 2147483647"}
	}
	o, err := h.objects.Head(q.r.Context(), q.bucket, q.key)
	if err != nil {
		return err
	}
	if err := o.CheckCustomerKey(ck); err != nil {
		return err
	}
	res := getObjectAttributesResponse{NS: s3NS}
	if want["ETag"] {
		res.ETag = o.ETag
	}
	if want["Checksum"] && len(o.Checksums) > 0 {
		res.Checksum = &attributesChecksum{checksumFields: toChecksumFields(o.Checksums), ChecksumType: o.ChecksumType}
	}
	if want["ObjectParts"] && o.PartsCount > 0 {
		p := &attributesParts{TotalPartsCount: o.PartsCount, PartNumberMarker: marker, MaxParts: maxParts}
		for i, part := range o.Parts {
			n := i + 1
			if n <= marker {
				continue
			}
			if len(p.Parts) == maxParts {
				p.IsTruncated = true
				break
			}
			p.Parts = append(p.Parts, attributesPart{PartNumber: n, Size: part.Size, checksumFields: toChecksumFields(part.Checksums)})
			p.NextPartNumberMarker = n
		}
		res.ObjectParts = p
	}
	if want["StorageClass"] {
		res.StorageClass = "STANDARD"
	}
	if want["ObjectSize"] {
		res.ObjectSize = &o.Size
	}
	q.w.Header().Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	return h.writeXML(q, http.StatusOK, res)
}
