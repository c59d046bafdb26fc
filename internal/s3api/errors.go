package s3api

import (
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/sigv4"
)

// apiError is an S3 error as the client sees it.
type apiError struct {
	Code    string
	Status  int
	Message string
}

// Error lets handlers return an apiError directly.
func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// Errors that arise in the wire layer itself.
var (
	errAccessDenied        = &apiError{"AccessDenied", http.StatusForbidden, "Access Denied"}
	errNotImplemented      = &apiError{"NotImplemented", http.StatusNotImplemented, "A header or query you provided requested a function that is not implemented."}
	errMethodNotAllowed    = &apiError{"MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource."}
	errMalformedXML        = &apiError{"MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."}
	errInvalidDigest       = &apiError{"InvalidDigest", http.StatusBadRequest, "The Content-MD5 or checksum value that you specified is not valid."}
	errMissingLength       = &apiError{"MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header."}
	errPreconditionFailed  = &apiError{"PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold"}
	errInvalidLocation     = &apiError{"InvalidLocationConstraint", http.StatusBadRequest, "The specified location-constraint is not valid"}
	errIllegalLocation     = &apiError{"IllegalLocationConstraintException", http.StatusBadRequest, "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."}
	errInvalidCopySource   = &apiError{"InvalidArgument", http.StatusBadRequest, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"}
	errCopyToItself        = &apiError{"InvalidRequest", http.StatusBadRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."}
	errMaxKeysInvalid      = &apiError{"InvalidArgument", http.StatusBadRequest, "Argument max-keys must be an integer between 0 and 2147483647"}
	errInvalidContinuation = &apiError{"InvalidArgument", http.StatusBadRequest, "The continuation token provided is incorrect"}
	errInvalidEncodingType = &apiError{"InvalidArgument", http.StatusBadRequest, "Invalid Encoding Method specified in Request"}
	errInvalidPartNumber   = &apiError{"InvalidArgument", http.StatusBadRequest, "Part number must be an integer between 1 and 10000, inclusive"}
	errEntityTooLarge      = &apiError{"EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size."}
	errCopyRangeBeyond     = &apiError{"InvalidRange", http.StatusBadRequest, "The requested range is not satisfiable"}
	errNotModified         = &apiError{"NotModified", http.StatusNotModified, "Not Modified"}
	errRequestBodyTooLarge = &apiError{"MaxMessageLengthExceeded", http.StatusBadRequest, "Your request was too big."}
	errInvalidVersion      = &apiError{"InvalidArgument", http.StatusBadRequest, "Invalid version id specified"}
	errPartNumberBeyond    = &apiError{"InvalidPartNumber", http.StatusBadRequest, "The requested partnumber is not satisfiable"}
)

// errorTable maps error classes of the services and of authentication to S3 errors. It is the
// only place where internal errors become client-visible codes.
var errorTable = []struct {
	class error
	api   apiError
}{
	{object.ErrNoSuchBucket, apiError{"NoSuchBucket", 404, "The specified bucket does not exist"}},
	{object.ErrNoSuchKey, apiError{"NoSuchKey", 404, "The specified key does not exist."}},
	{object.ErrNoSuchUpload, apiError{"NoSuchUpload", 404, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."}},
	{object.ErrBucketNotEmpty, apiError{"BucketNotEmpty", 409, "The bucket you tried to delete is not empty"}},
	{object.ErrBucketAlreadyOwnedByYou, apiError{"BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket succeeded and you already own it."}},
	{object.ErrBucketAlreadyExists, apiError{"BucketAlreadyExists", 409, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."}},
	{object.ErrInvalidBucketName, apiError{"InvalidBucketName", 400, "The specified bucket is not valid."}},
	{object.ErrKeyTooLong, apiError{"KeyTooLongError", 400, "Your key is too long"}},
	{object.ErrInvalidKey, apiError{"InvalidArgument", 400, "Object key must be non-empty valid UTF-8"}},
	{object.ErrEntityTooLarge, apiError{"EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size."}},
	{object.ErrEntityTooSmall, apiError{"EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size."}},
	{object.ErrBadDigest, apiError{"BadDigest", 400, "The Content-MD5 or checksum you specified did not match what we received."}},
	{object.ErrInvalidChecksum, apiError{"InvalidRequest", 400, "The checksum algorithm or value you specified is not valid for this request."}},
	{object.ErrInvalidPart, apiError{"InvalidPart", 400, "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag."}},
	{object.ErrInvalidPartOrder, apiError{"InvalidPartOrder", 400, "The list of parts was not in ascending order. Parts list must be specified in order by part number."}},
	{object.ErrInvalidPartNumber, apiError{"InvalidArgument", 400, "Part number must be an integer between 1 and 10000, inclusive"}},
	{object.ErrMalformedCompletion, apiError{"MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema."}},
	{object.ErrIncompleteBody, apiError{"IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header."}},
	{object.ErrRequestTimeout, apiError{"RequestTimeout", 400, "Your socket connection to the server was not read from or written to within the timeout period."}},
	{object.ErrMetadataTooLarge, apiError{"MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size."}},
	{object.ErrPreconditionFailed, apiError{"PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold"}},
	{object.ErrInvalidRange, apiError{"InvalidRange", 416, "The requested range is not satisfiable"}},
	{object.ErrNoOwnershipControls, apiError{"OwnershipControlsNotFoundError", 404, "The bucket ownership controls were not found"}},
	{object.ErrInvalidOwnership, apiError{"InvalidArgument", 400, "Invalid ObjectOwnership setting"}},
	{object.ErrSSECBlocked, apiError{"AccessDenied", 403, "Access Denied"}},
	{object.ErrSSECKeyRequired, apiError{"InvalidRequest", 400, "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object."}},
	{object.ErrSSECWrongKey, apiError{"AccessDenied", 403, "Access Denied"}},
	{object.ErrSSECNotApplicable, apiError{"InvalidRequest", 400, "The encryption parameters are not applicable to this object."}},
	{object.ErrSSECPartKeyRequired, apiError{"InvalidRequest", 400, "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters."}},
	{object.ErrSSECKeyMismatch, apiError{"InvalidArgument", 400, "The provided encryption parameters did not match the ones used originally."}},
	{object.ErrInvalidEncryptionContext, apiError{"InvalidArgument", 400, "The value of aws:s3:arn in the encryption context must be the ARN of the object (of the bucket, with an S3 Bucket Key)."}},
	{object.ErrBucketKeyDSSE, apiError{"InvalidArgument", 400, "S3 Bucket Keys are not supported for DSSE-KMS (aws:kms:dsse)."}},

	{object.ErrUpdateUnencrypted, apiError{"InvalidRequest", 400, "The UpdateObjectEncryption operation doesn't supported unencrypted source objects. Only source objects encrypted with SSE-S3 or SSE-KMS are supported."}},
	{object.ErrUpdateSourceType, apiError{"InvalidRequest", 400, "The UpdateObjectEncryption operation doesn't support source objects with the encryption type DSSE-KMS or SSE-C. Only source objects encrypted with SSE-S3 or SSE-KMS are supported."}},
	{object.ErrUpdateKeyAccount, apiError{"AccessDenied", 403, "The Amazon Web Services KMS key in the request must be owned by the same account as the bucket. Modify the request to specify a KMS key from the same account, and then try again."}},
	{object.ErrUpdateRaced, apiError{"OperationAborted", 409, "A conflicting conditional operation is currently in progress against this resource. Please try again."}},
	{sigv4.ErrMissingAuth, apiError{"AccessDenied", 403, "Access Denied"}},
	{sigv4.ErrAuthHeaderMalformed, apiError{"AuthorizationHeaderMalformed", 400, "The authorization header is malformed."}},
	{sigv4.ErrQueryMalformed, apiError{"AuthorizationQueryParametersError", 400, "Error parsing the X-Amz-Credential parameter or the query-string authentication parameters."}},
	{sigv4.ErrUnsupportedSignature, apiError{"InvalidRequest", 400, "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."}},
	{sigv4.ErrInvalidAccessKeyID, apiError{"InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."}},
	{sigv4.ErrInvalidToken, apiError{"InvalidToken", 400, "The provided token is malformed or otherwise invalid."}},
	{sigv4.ErrExpiredToken, apiError{"ExpiredToken", 400, "The provided token has expired."}},
	{sigv4.ErrSignatureDoesNotMatch, apiError{"SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided. Check your key and signing method."}},
	{sigv4.ErrRequestExpired, apiError{"AccessDenied", 403, "Request has expired"}},
	{sigv4.ErrRequestNotYetValid, apiError{"AccessDenied", 403, "Request is not valid yet"}},
	{sigv4.ErrTimeSkewed, apiError{"RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large."}},
	{sigv4.ErrMissingDate, apiError{"AccessDenied", 403, "AWS authentication requires a valid Date or x-amz-date header"}},
	{sigv4.ErrMissingContentSHA256, apiError{"InvalidRequest", 400, "Missing required header for this request: x-amz-content-sha256"}},
	{sigv4.ErrHeadersNotSigned, apiError{"AccessDenied", 403, "There were headers present in the request which were not signed"}},
	{sigv4.ErrContentSHA256Mismatch, apiError{"XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed."}},
	{sigv4.ErrInvalidContentSHA256, apiError{"InvalidArgument", 400, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value."}},
	{sigv4.ErrIncompleteBody, apiError{"IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header."}},
	{sigv4.ErrMalformedChunk, apiError{"IncompleteBody", 400, "The request body is not valid aws-chunked encoding."}},
	{sigv4.ErrBodyTooLarge, apiError{"MaxMessageLengthExceeded", 400, "Your request was too big."}},
	{sigv4.ErrPostFormMalformed, apiError{"InvalidArgument", 400, "The x-amz-credential, x-amz-date or signature field of the form is malformed."}},
	{sigv4.ErrPolicyMalformed, apiError{"InvalidPolicyDocument", 400, "Invalid Policy"}},
	{sigv4.ErrPolicyExpired, apiError{"AccessDenied", 403, "Invalid according to Policy: Policy expired."}},
	{sigv4.ErrPolicyCondition, apiError{"AccessDenied", 403, "Invalid according to Policy: Policy Condition failed"}},
	{object.ErrNoSuchBucketPolicy, apiError{"NoSuchBucketPolicy", 404, "The bucket policy does not exist"}},
	{object.ErrPolicyTooLarge, apiError{"PolicyTooLarge", 400, "Policy exceeds the maximum allowed document size."}},
	{object.ErrNoSuchPublicAccessBlock, apiError{"NoSuchPublicAccessBlockConfiguration", 404, "The public access block configuration was not found"}},
	{sigv4.ErrPolicyExtraField, apiError{"AccessDenied", 403, "Invalid according to Policy: Extra input fields"}},
}

// toAPIError classifies err. Anything unknown is an internal error whose text stays in the log.
func toAPIError(err error) (*apiError, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae, true
	}
	var de *object.DigestError
	if errors.As(err, &de) {
		return badDigest(de.Digest), true
	}
	var ad *object.AccessDeniedError
	if errors.As(err, &ad) {
		return accessDenied(ad), true
	}
	var mp *object.MalformedPolicyError
	if errors.As(err, &mp) {
		return &apiError{"MalformedPolicy", http.StatusBadRequest, mp.Message}, true
	}
	var ke *object.KMSError
	if errors.As(err, &ke) {
		return kmsError(ke), true
	}
	for i := range errorTable {
		if errors.Is(err, errorTable[i].class) {
			return &errorTable[i].api, true
		}
	}
	return &apiError{"InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again."}, false
}

// kmsError is a KMS failure as S3 passes it on: KMS.<exception> with the KMS's message (400),
// and a refused permission as 403 AccessDenied.
func kmsError(ke *object.KMSError) *apiError {
	if ke.Exception == "AccessDeniedException" {
		return &apiError{"AccessDenied", http.StatusForbidden, ke.Message}
	}
	return &apiError{"KMS." + ke.Exception, http.StatusBadRequest, ke.Message}
}

// badDigest is S3's BadDigest naming the digest that did not match.
func badDigest(digest string) *apiError {
	if digest == object.ContentMD5 {
		return &apiError{"BadDigest", http.StatusBadRequest, "The Content-MD5 you specified did not match what we received."}
	}
	return &apiError{"BadDigest", http.StatusBadRequest, "The " + digest + " you specified did not match the calculated checksum."}
}

// errorBody is the XML body of an S3 error.
type errorBody struct {
	XMLName          xml.Name `xml:"Error"`
	Code             string   `xml:"Code"`
	Message          string   `xml:"Message"`
	BucketName       string   `xml:"BucketName,omitempty"`
	Key              string   `xml:"Key,omitempty"`
	Region           string   `xml:"Region,omitempty"`
	Resource         string   `xml:"Resource"`
	RequestID        string   `xml:"RequestId"`
	HostID           string   `xml:"HostId"`
	ActualObjectSize string   `xml:"ActualObjectSize,omitempty"`
}
