package s3api

import (
	"encoding/xml"
	"net/http"
	"regexp"

	"github.com/coffer/coffer/internal/object"
)

// UpdateObjectEncryption: PUT /{Bucket}/{Key+}?encryption with an ObjectEncryption body. S3
// accepts one target, SSE-KMS under a full key ARN, and answers 200 with no body. Shapes and
// messages follow the S3 service model (botocore s3 2006-03-01, UpdateObjectEncryption).

// objectEncryption is the request body.
type objectEncryption struct {
	XMLName xml.Name `xml:"ObjectEncryption"`
	SSEKMS  *struct {
		KMSKeyArn        *string `xml:"KMSKeyArn"`
		BucketKeyEnabled *string `xml:"BucketKeyEnabled"`
	} `xml:"SSE-KMS"`
	// Other holds any other member, which names a target S3 does not allow.
	Other []struct {
		XMLName xml.Name
	} `xml:",any"`
}

// kmsKeyARN is the pattern of the service model's NonEmptyKmsKeyArnString: a key ARN, never a
// key id, alias or alias ARN.
var kmsKeyARN = regexp.MustCompile(`^arn:aws[a-zA-Z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$`)

// UpdateObjectEncryption's InvalidRequest refusals, in S3's words.
var (
	errUpdateSigV4       = &apiError{"InvalidRequest", http.StatusBadRequest, "Requests that modify an object encryption configuration require Amazon Web Services Signature Version 4. Modify the request to use Amazon Web Services Signature Version 4, and then try again."}
	errUpdateTargetType  = &apiError{"InvalidRequest", http.StatusBadRequest, "Requests that modify an object encryption configuration require a valid new encryption type. Valid values are SSEKMS. Modify the request to specify SSE-KMS for the updated encryption type, and then try again."}
	errUpdateTargetDSSE  = &apiError{"InvalidRequest", http.StatusBadRequest, "The UpdateObjectEncryption operation doesn't support updating the encryption type to DSSE-KMS or SSE-C. Modify the request to specify SSE-KMS for the updated encryption type, and then try again."}
	errUpdateNoKeyARN    = &apiError{"InvalidRequest", http.StatusBadRequest, "Requests that modify an object's encryption type to SSE-KMS require an Amazon Web Services KMS key Amazon Resource Name (ARN). Modify the request to specify a KMS key ARN, and then try again."}
	errUpdateBadKeyARN   = &apiError{"InvalidRequest", http.StatusBadRequest, "Requests that modify an object's encryption type to SSE-KMS require a valid Amazon Web Services KMS key Amazon Resource Name (ARN). Confirm that you have a correctly formatted KMS key ARN in your request, and then try again."}
	errUpdateBucketKey   = &apiError{"InvalidRequest", http.StatusBadRequest, "The BucketKeyEnabled value isn't valid. Valid values are true or false. Modify the request to specify a valid value, and then try again."}
	errMissingContentMD5 = &apiError{"InvalidRequest", http.StatusBadRequest, "Missing required header for this request: Content-MD5"}
)

// parseObjectEncryption reads an UpdateObjectEncryption body into its target.
func parseObjectEncryption(body []byte) (object.EncryptionUpdate, error) {
	var req objectEncryption
	if err := xml.Unmarshal(body, &req); err != nil {
		return object.EncryptionUpdate{}, errMalformedXML
	}
	for _, o := range req.Other {
		if n := o.XMLName.Local; n == "DSSE-KMS" || n == "SSE-C" {
			return object.EncryptionUpdate{}, errUpdateTargetDSSE
		}
	}
	kms := req.SSEKMS
	switch {
	case kms == nil || len(req.Other) > 0:
		return object.EncryptionUpdate{}, errUpdateTargetType
	case kms.KMSKeyArn == nil || *kms.KMSKeyArn == "":
		return object.EncryptionUpdate{}, errUpdateNoKeyARN
	case !kmsKeyARN.MatchString(*kms.KMSKeyArn) || len(*kms.KMSKeyArn) > 2048:
		return object.EncryptionUpdate{}, errUpdateBadKeyARN
	}
	out := object.EncryptionUpdate{KMSKeyARN: *kms.KMSKeyArn}
	if v := kms.BucketKeyEnabled; v != nil {
		switch *v {
		case "true":
			out.BucketKey = true
		case "false":
		default:
			return object.EncryptionUpdate{}, errUpdateBucketKey
		}
	}
	return out, nil
}

func (h *Handler) updateObjectEncryption(q *request) error {
	if q.auth != nil && q.auth.SigV2 {
		return errUpdateSigV4
	}
	if q.r.Header.Get("Content-MD5") == "" && !hasChecksumHeader(q.r.Header) {
		return errMissingContentMD5
	}
	body, err := readSmallBody(q, 64<<10)
	if err != nil {
		return err
	}
	to, err := parseObjectEncryption(body)
	if err != nil {
		return err
	}
	if err := h.objects.UpdateObjectEncryption(q.r.Context(), q.bucket, q.key, to); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}
