package integration

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBuckets(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	cl := e.s3

	t.Run("create and list", func(t *testing.T) {
		for _, b := range []string{"alpha", "beta.dots", "gamma-1"} {
			if _, err := cl.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
				t.Fatalf("create %s: %v", b, err)
			}
		}
		out := must[*s3.ListBucketsOutput](t)(cl.ListBuckets(c, &s3.ListBucketsInput{}))
		var names []string
		for _, b := range out.Buckets {
			names = append(names, *b.Name)
			if b.CreationDate == nil || b.CreationDate.IsZero() {
				t.Errorf("bucket %s has no creation date", *b.Name)
			}
		}
		if want := []string{"alpha", "beta.dots", "gamma-1"}; !equalStrings(names, want) {
			t.Fatalf("got %v, want %v", names, want)
		}
	})
	t.Run("invalid names", func(t *testing.T) {
		for _, b := range []string{"ab", "UPPER", "-lead", "trail-", "a..b", "192.168.1.1", "xn--abc", "has_underscore", "x-s3alias-bucket-s3alias"} {
			_, err := cl.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String(b)})
			wantAPIError(t, err, "InvalidBucketName", 400)
		}
	})
	t.Run("location constraint", func(t *testing.T) {
		_, err := cl.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("eu-bucket"),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}})
		wantAPIError(t, err, "IllegalLocationConstraintException", 400)
		loc := must[*s3.GetBucketLocationOutput](t)(cl.GetBucketLocation(c, &s3.GetBucketLocationInput{Bucket: aws.String("alpha")}))
		if loc.LocationConstraint != "" {
			t.Fatalf("us-east-1 bucket location = %q, want empty", loc.LocationConstraint)
		}
	})
	t.Run("head", func(t *testing.T) {
		if _, err := cl.HeadBucket(c, &s3.HeadBucketInput{Bucket: aws.String("alpha")}); err != nil {
			t.Fatal(err)
		}
		_, err := cl.HeadBucket(c, &s3.HeadBucketInput{Bucket: aws.String("missing-bucket")})
		wantAPIError(t, err, "NotFound", 404)
	})
	t.Run("delete not empty then empty", func(t *testing.T) {
		must[*s3.PutObjectOutput](t)(cl.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("gamma-1"), Key: aws.String("k"), Body: stringsReader("x")}))
		_, err := cl.DeleteBucket(c, &s3.DeleteBucketInput{Bucket: aws.String("gamma-1")})
		wantAPIError(t, err, "BucketNotEmpty", 409)
		must[*s3.DeleteObjectOutput](t)(cl.DeleteObject(c, &s3.DeleteObjectInput{Bucket: aws.String("gamma-1"), Key: aws.String("k")}))
		if _, err := cl.DeleteBucket(c, &s3.DeleteBucketInput{Bucket: aws.String("gamma-1")}); err != nil {
			t.Fatal(err)
		}
		_, err = cl.DeleteBucket(c, &s3.DeleteBucketInput{Bucket: aws.String("gamma-1")})
		wantAPIError(t, err, "NoSuchBucket", 404)
	})
	t.Run("missing bucket operations", func(t *testing.T) {
		_, err := cl.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("k"), Body: stringsReader("x")})
		wantAPIError(t, err, "NoSuchBucket", 404)
		_, err = cl.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String("nobucket")})
		wantAPIError(t, err, "NoSuchBucket", 404)
	})
	t.Run("virtual host style", func(t *testing.T) {
		vh := e.client(testAccessKey, testSecretKey, func(o *s3.Options) {
			o.UsePathStyle = false
			o.BaseEndpoint = aws.String("https://localhost:" + portOf(e.srv.URL[len("https://"):]))
		})
		must[*s3.PutObjectOutput](t)(vh.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("alpha"), Key: aws.String("vh/key.txt"), Body: stringsReader("virtual")}))
		got := readAll(t, must[*s3.GetObjectOutput](t)(cl.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("alpha"), Key: aws.String("vh/key.txt")})).Body)
		if got != "virtual" {
			t.Fatalf("path-style read of a virtual-host write = %q", got)
		}
		out := must[*s3.ListObjectsV2Output](t)(vh.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String("alpha"), Prefix: aws.String("vh/")}))
		if len(out.Contents) != 1 || *out.Contents[0].Key != "vh/key.txt" {
			t.Fatalf("virtual-host listing = %+v", out.Contents)
		}
	})
	t.Run("every response has a request id", func(t *testing.T) {
		resp, err := e.http.Get(e.srv.URL + "/alpha")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-amz-request-id") == "" {
			t.Fatalf("anonymous GET: status %d, request id %q", resp.StatusCode, resp.Header.Get("x-amz-request-id"))
		}
	})
}
