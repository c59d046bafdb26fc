package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer/coffer/internal/server"
)

// TestOwnerDisplayName: every listing that names an Owner or Initiator gives the account's id
// and display name.
func TestOwnerDisplayName(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	cl := e.s3
	newBucket(t, e, "owned")
	putKeys(t, e, "owned", []string{"k"})
	up := must[*s3.CreateMultipartUploadOutput](t)(cl.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String("owned"), Key: aws.String("mp")}))
	b := aws.String("owned")
	tests := []struct {
		name   string
		owners func(t *testing.T) []any // *types.Owner or *types.Initiator
	}{
		{"ListBuckets", func(t *testing.T) []any {
			return []any{must[*s3.ListBucketsOutput](t)(cl.ListBuckets(c, &s3.ListBucketsInput{})).Owner}
		}},
		{"ListObjects", func(t *testing.T) []any {
			return []any{must[*s3.ListObjectsOutput](t)(cl.ListObjects(c, &s3.ListObjectsInput{Bucket: b})).Contents[0].Owner}
		}},
		{"ListObjectsV2 fetch-owner", func(t *testing.T) []any {
			return []any{must[*s3.ListObjectsV2Output](t)(cl.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: b, FetchOwner: aws.Bool(true)})).Contents[0].Owner}
		}},
		{"ListObjectVersions", func(t *testing.T) []any {
			return []any{must[*s3.ListObjectVersionsOutput](t)(cl.ListObjectVersions(c, &s3.ListObjectVersionsInput{Bucket: b})).Versions[0].Owner}
		}},
		{"ListMultipartUploads", func(t *testing.T) []any {
			u := must[*s3.ListMultipartUploadsOutput](t)(cl.ListMultipartUploads(c, &s3.ListMultipartUploadsInput{Bucket: b})).Uploads[0]
			return []any{u.Owner, u.Initiator}
		}},
		{"ListParts", func(t *testing.T) []any {
			out := must[*s3.ListPartsOutput](t)(cl.ListParts(c, &s3.ListPartsInput{Bucket: b, Key: aws.String("mp"), UploadId: up.UploadId}))
			return []any{out.Owner, out.Initiator}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, o := range tc.owners(t) {
				var id, name string
				switch o := o.(type) {
				case *types.Owner:
					if o != nil {
						id, name = aws.ToString(o.ID), aws.ToString(o.DisplayName)
					}
				case *types.Initiator:
					if o != nil {
						id, name = aws.ToString(o.ID), aws.ToString(o.DisplayName)
					}
				}
				if len(id) != 12 || name != server.DefaultDisplayName {
					t.Fatalf("%T: ID %q DisplayName %q, want the account id and %q", o, id, name, server.DefaultDisplayName)
				}
			}
		})
	}
}
