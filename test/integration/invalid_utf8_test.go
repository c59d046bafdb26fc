package integration

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestInvalidUTF8Keys: a key, prefix or marker that is not UTF-8 is 400 InvalidURI, as S3
// answers, on every operation; a copy source that is not is InvalidArgument.
func TestInvalidUTF8Keys(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "badkeys")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("badkeys"), Key: aws.String("ok"), Body: stringsReader("x")}))
	up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String("badkeys"), Key: aws.String("dst")}))
	bad := aws.String("k\xff\xfe")
	b := aws.String("badkeys")
	tests := []struct {
		name   string
		call   func(context.Context) error
		code   string
		status int
	}{
		{"GetObject", func(c context.Context) error {
			_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: bad})
			return err
		}, "InvalidURI", 400},
		{"HeadObject", func(c context.Context) error {
			_, err := e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: b, Key: bad})
			return err
		}, "", 400},
		{"PutObject", func(c context.Context) error {
			_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: bad, Body: stringsReader("x")})
			return err
		}, "InvalidURI", 400},
		{"DeleteObject", func(c context.Context) error {
			_, err := e.s3.DeleteObject(c, &s3.DeleteObjectInput{Bucket: b, Key: bad})
			return err
		}, "InvalidURI", 400},
		{"CreateMultipartUpload", func(c context.Context) error {
			_, err := e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: bad})
			return err
		}, "InvalidURI", 400},
		{"GetObjectAttributes", func(c context.Context) error {
			_, err := e.s3.GetObjectAttributes(c, &s3.GetObjectAttributesInput{Bucket: b, Key: bad, ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag}})
			return err
		}, "InvalidURI", 400},
		{"ListObjectsV2 prefix", func(c context.Context) error {
			_, err := e.s3.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: b, Prefix: bad})
			return err
		}, "InvalidURI", 400},
		{"ListObjectsV2 start-after", func(c context.Context) error {
			_, err := e.s3.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: b, StartAfter: bad})
			return err
		}, "InvalidURI", 400},
		{"ListObjects marker", func(c context.Context) error {
			_, err := e.s3.ListObjects(c, &s3.ListObjectsInput{Bucket: b, Marker: bad})
			return err
		}, "InvalidURI", 400},
		{"ListMultipartUploads key-marker", func(c context.Context) error {
			_, err := e.s3.ListMultipartUploads(c, &s3.ListMultipartUploadsInput{Bucket: b, KeyMarker: bad})
			return err
		}, "InvalidURI", 400},
		{"CopyObject source", func(c context.Context) error {
			_, err := e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy"), CopySource: aws.String("badkeys/k%FF%FE")})
			return err
		}, "InvalidArgument", 400},
		{"UploadPartCopy source", func(c context.Context) error {
			_, err := e.s3.UploadPartCopy(c, &s3.UploadPartCopyInput{Bucket: b, Key: aws.String("dst"), UploadId: up.UploadId, PartNumber: aws.Int32(1), CopySource: aws.String("badkeys/k%FF")})
			return err
		}, "InvalidArgument", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, tc.call(c), tc.code, tc.status) })
	}
	t.Run("DeleteObjects entry", func(t *testing.T) {
		// XML cannot carry bytes that are not UTF-8: the body is not well-formed.
		body := "<Delete><Object><Key>ok</Key></Object><Object><Key>k\xff</Key></Object></Delete>"
		resp := e.raw(t, http.MethodPost, "/badkeys?delete", body, map[string]string{"Content-MD5": md5b64(body)}, nowUTC())
		wantRawError(t, resp, "MalformedXML", 400)
		must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: b, Key: aws.String("ok")}))
	})
	t.Run("raw path", func(t *testing.T) {
		re := wantRawError(t, e.raw(t, http.MethodGet, "/badkeys/k%C3%28", "", nil, nowUTC()), "InvalidURI", 400)
		if re.Message != "Couldn't parse the specified URI." {
			t.Fatalf("message %q", re.Message)
		}
	})
}
