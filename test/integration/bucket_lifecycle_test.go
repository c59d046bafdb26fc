package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer/coffer/internal/blob/fsblob"
)

// TestCreateBucketAlreadyOwned: S3 keeps its legacy answer in us-east-1, 200 OK for a bucket
// the caller already owns, and 409 BucketAlreadyOwnedByYou in every other region.
func TestCreateBucketAlreadyOwned(t *testing.T) {
	tests := []struct {
		region string
		code   string // "" for success
	}{
		{"us-east-1", ""},
		{"eu-west-1", "BucketAlreadyOwnedByYou"},
	}
	for _, tc := range tests {
		t.Run(tc.region, func(t *testing.T) {
			e := startServerIn(t, t.TempDir(), tc.region)
			c := ctx(t)
			in := &s3.CreateBucketInput{Bucket: aws.String("owned")}
			if tc.region != "us-east-1" {
				in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(tc.region)}
			}
			must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, in))
			must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("owned"), Key: aws.String("k"), Body: stringsReader("kept")}))
			_, err := e.s3.CreateBucket(c, in)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("second CreateBucket: %v", err)
				}
			} else {
				wantAPIError(t, err, tc.code, 409)
			}
			got := readAll(t, must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("owned"), Key: aws.String("k")})).Body)
			if got != "kept" {
				t.Fatalf("object after second CreateBucket: %q", got)
			}
		})
	}
}

// TestDeleteBucketWithUploads: S3 deletes a bucket whose only content is in-progress multipart
// uploads, and the uploads and their parts go with it; an object still keeps the bucket.
func TestDeleteBucketWithUploads(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	cl := e.s3
	partBlobs := func(t *testing.T) int {
		t.Helper()
		blobs, err := fsblob.New(e.dir + "/blobs")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := blobs.List(c, "p/", func(string, int64) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	startUploads := func(t *testing.T, bucket string) {
		t.Helper()
		for _, key := range []string{"a", "b/c"} {
			up := must[*s3.CreateMultipartUploadOutput](t)(cl.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}))
			for n := int32(1); n <= 2; n++ {
				must[*s3.UploadPartOutput](t)(cl.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key),
					UploadId: up.UploadId, PartNumber: aws.Int32(n), Body: bytesReader(randomBytes(uint64(n), 1000))}))
			}
		}
		must[*s3.CreateMultipartUploadOutput](t)(cl.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("no-parts")}))
	}

	t.Run("uploads only", func(t *testing.T) {
		newBucket(t, e, "uploads-only")
		startUploads(t, "uploads-only")
		if n := partBlobs(t); n != 4 {
			t.Fatalf("%d part blobs stored, want 4", n)
		}
		if _, err := cl.DeleteBucket(c, &s3.DeleteBucketInput{Bucket: aws.String("uploads-only")}); err != nil {
			t.Fatalf("DeleteBucket with in-progress uploads: %v", err)
		}
		if n := partBlobs(t); n != 0 {
			t.Fatalf("%d part blobs left after DeleteBucket, want 0", n)
		}
		_, err := cl.HeadBucket(c, &s3.HeadBucketInput{Bucket: aws.String("uploads-only")})
		wantAPIError(t, err, "NotFound", 404)
		newBucket(t, e, "uploads-only")
		out := must[*s3.ListMultipartUploadsOutput](t)(cl.ListMultipartUploads(c, &s3.ListMultipartUploadsInput{Bucket: aws.String("uploads-only")}))
		if len(out.Uploads) != 0 {
			t.Fatalf("recreated bucket lists %d uploads, want 0", len(out.Uploads))
		}
	})
	t.Run("object and uploads", func(t *testing.T) {
		newBucket(t, e, "with-object")
		startUploads(t, "with-object")
		must[*s3.PutObjectOutput](t)(cl.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("with-object"), Key: aws.String("k"), Body: stringsReader("x")}))
		_, err := cl.DeleteBucket(c, &s3.DeleteBucketInput{Bucket: aws.String("with-object")})
		wantAPIError(t, err, "BucketNotEmpty", 409)
		out := must[*s3.ListMultipartUploadsOutput](t)(cl.ListMultipartUploads(c, &s3.ListMultipartUploadsInput{Bucket: aws.String("with-object")}))
		if len(out.Uploads) != 3 {
			t.Fatalf("refused DeleteBucket left %d uploads, want 3", len(out.Uploads))
		}
	})
}
