package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestUnstoredWriteOptionsRefused: options Coffer would otherwise drop are refused as S3 does
// for a bucket without the feature; the options S3's defaults allow are accepted.
func TestUnstoredWriteOptionsRefused(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "opts")
	b := aws.String("opts")
	cases := []struct {
		name   string
		mod    func(*s3.PutObjectInput)
		code   string
		status int
	}{
		{"tagging", func(in *s3.PutObjectInput) { in.Tagging = aws.String("k=v") }, "NotImplemented", 501},
		{"public-read ACL", func(in *s3.PutObjectInput) { in.ACL = types.ObjectCannedACLPublicRead }, "AccessControlListNotSupported", 400},
		{"grant", func(in *s3.PutObjectInput) {
			in.GrantRead = aws.String(`uri="http://acs.amazonaws.com/groups/global/AllUsers"`)
		}, "AccessControlListNotSupported", 400},
		{"glacier", func(in *s3.PutObjectInput) { in.StorageClass = types.StorageClassGlacier }, "InvalidStorageClass", 400},
		{"legal hold", func(in *s3.PutObjectInput) { in.ObjectLockLegalHoldStatus = types.ObjectLockLegalHoldStatusOn }, "InvalidRequest", 400},
		{"redirect", func(in *s3.PutObjectInput) { in.WebsiteRedirectLocation = aws.String("/other") }, "NotImplemented", 501},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: stringsReader("x")}
			tc.mod(in)
			_, err := e.s3.PutObject(c, in)
			wantAPIError(t, err, tc.code, tc.status)
		})
	}
	t.Run("accepted defaults", func(t *testing.T) {
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("ok"), Body: stringsReader("x"),
			ACL: types.ObjectCannedACLBucketOwnerFullControl, StorageClass: types.StorageClassStandard}))
	})
	t.Run("bucket with public ACL", func(t *testing.T) {
		_, err := e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("pub-bucket"), ACL: types.BucketCannedACLPublicRead})
		wantAPIError(t, err, "InvalidBucketAclWithObjectOwnership", 400)
	})
}
