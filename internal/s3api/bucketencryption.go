package s3api

import (
	"encoding/xml"
	"net/http"

	"github.com/coffer/coffer/internal/object"
)

// Bucket default encryption: Get/Put/DeleteBucketEncryption. SSE-S3 is every bucket's default
// (S3 since January 2023); an explicit configuration is kept apart from that default.

// serverSideEncryptionConfiguration is the body of Put and GetBucketEncryption.
type serverSideEncryptionConfiguration struct {
	XMLName xml.Name         `xml:"ServerSideEncryptionConfiguration"`
	NS      string           `xml:"xmlns,attr,omitempty"`
	Rules   []encryptionRule `xml:"Rule"`
}

type encryptionRule struct {
	Default *struct {
		SSEAlgorithm   string `xml:"SSEAlgorithm"`
		KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
	} `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled *bool `xml:"BucketKeyEnabled"`
	Blocked          *struct {
		Types []string `xml:"EncryptionType"`
	} `xml:"BlockedEncryptionTypes"`
}

// parseBucketEncryption reads a PutBucketEncryption body into the configuration to store.
func parseBucketEncryption(body []byte) (*object.BucketEncryption, error) {
	var cfg serverSideEncryptionConfiguration
	if err := xml.Unmarshal(body, &cfg); err != nil || len(cfg.Rules) != 1 {
		return nil, errMalformedXML
	}
	r := cfg.Rules[0]
	if r.Default == nil {
		return nil, errMalformedXML
	}
	out := &object.BucketEncryption{Algorithm: r.Default.SSEAlgorithm, KMSMasterKeyID: r.Default.KMSMasterKeyID}
	switch out.Algorithm {
	case object.SSES3:
		if out.KMSMasterKeyID != "" {
			return nil, &apiError{"InvalidArgument", http.StatusBadRequest, "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse"}
		}
	case object.SSEKMS, object.SSEKMSDSSE:
		// S3 does not check the key here: a missing or disabled key fails the writes.
	default:
		return nil, &apiError{"InvalidArgument", http.StatusBadRequest, "The encryption method specified is not supported"}
	}
	if r.BucketKeyEnabled != nil {
		out.BucketKeyEnabled = *r.BucketKeyEnabled
	}
	if r.Blocked != nil {
		for _, t := range r.Blocked.Types {
			if t != "NONE" && t != "SSE-C" {
				return nil, &apiError{"InvalidArgument", http.StatusBadRequest, "The BlockedEncryptionTypes value is not valid: " + t}
			}
		}
		out.BlockedEncryptionTypes = r.Blocked.Types
	}
	return out, nil
}

func (h *Handler) putBucketEncryption(q *request) error {
	if q.r.Header.Get("Content-MD5") == "" && !hasChecksumHeader(q.r.Header) {
		return errMissingContentMD5
	}
	body, err := readSmallBody(q, 64<<10)
	if err != nil {
		return err
	}
	cfg, err := parseBucketEncryption(body)
	if err != nil {
		return err
	}
	if err := h.objects.SetBucketEncryption(q.r.Context(), q.bucket, cfg); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) getBucketEncryption(q *request) error {
	cfg := q.target.DefaultEncryption()
	var r encryptionRule
	r.Default = &struct {
		SSEAlgorithm   string `xml:"SSEAlgorithm"`
		KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
	}{cfg.Algorithm, cfg.KMSMasterKeyID}
	r.BucketKeyEnabled = &cfg.BucketKeyEnabled
	// The blocked types in effect: a bucket whose record names none accepts SSE-C.
	blocked := cfg.BlockedEncryptionTypes
	if len(blocked) == 0 {
		blocked = []string{object.NoneBlocked}
	}
	r.Blocked = &struct {
		Types []string `xml:"EncryptionType"`
	}{blocked}
	return h.writeXML(q, http.StatusOK, serverSideEncryptionConfiguration{NS: s3NS, Rules: []encryptionRule{r}})
}

func (h *Handler) deleteBucketEncryption(q *request) error {
	if err := h.objects.SetBucketEncryption(q.r.Context(), q.bucket, nil); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
