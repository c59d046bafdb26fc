package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestListObjectVersionsUnversioned(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "vers")
	putKeys(t, e, "vers", []string{"a", "b/1", "b/2", "c"})
	out := must[*s3.ListObjectVersionsOutput](t)(e.s3.ListObjectVersions(c, &s3.ListObjectVersionsInput{Bucket: aws.String("vers")}))
	if len(out.Versions) != 4 || len(out.DeleteMarkers) != 0 || aws.ToBool(out.IsTruncated) {
		t.Fatalf("versions %d, markers %d, truncated %v", len(out.Versions), len(out.DeleteMarkers), aws.ToBool(out.IsTruncated))
	}
	for _, v := range out.Versions {
		if aws.ToString(v.VersionId) != "null" || !aws.ToBool(v.IsLatest) || aws.ToString(v.ETag) == "" {
			t.Fatalf("version %+v", v)
		}
	}
	// Paging by key marker, and a delimiter.
	p1 := must[*s3.ListObjectVersionsOutput](t)(e.s3.ListObjectVersions(c, &s3.ListObjectVersionsInput{Bucket: aws.String("vers"), MaxKeys: aws.Int32(2), Delimiter: aws.String("/")}))
	if !aws.ToBool(p1.IsTruncated) || aws.ToString(p1.NextKeyMarker) != "b/" || len(p1.Versions) != 1 || len(p1.CommonPrefixes) != 1 {
		t.Fatalf("page 1: truncated %v next %q versions %d prefixes %d", aws.ToBool(p1.IsTruncated), aws.ToString(p1.NextKeyMarker), len(p1.Versions), len(p1.CommonPrefixes))
	}
	p2 := must[*s3.ListObjectVersionsOutput](t)(e.s3.ListObjectVersions(c, &s3.ListObjectVersionsInput{Bucket: aws.String("vers"), MaxKeys: aws.Int32(2), Delimiter: aws.String("/"),
		KeyMarker: p1.NextKeyMarker, VersionIdMarker: p1.NextVersionIdMarker}))
	if aws.ToBool(p2.IsTruncated) || len(p2.Versions) != 1 || aws.ToString(p2.Versions[0].Key) != "c" {
		t.Fatalf("page 2: %+v", p2.Versions)
	}
	// What Terraform's force_destroy does: list versions, delete each with its version id.
	for _, v := range out.Versions {
		must[*s3.DeleteObjectOutput](t)(e.s3.DeleteObject(c, &s3.DeleteObjectInput{Bucket: aws.String("vers"), Key: v.Key, VersionId: v.VersionId}))
	}
	must[*s3.DeleteBucketOutput](t)(e.s3.DeleteBucket(c, &s3.DeleteBucketInput{Bucket: aws.String("vers")}))
}

func TestVersionIDs(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "vids")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("vids"), Key: aws.String("k"), Body: stringsReader("v")}))
	g := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("vids"), Key: aws.String("k"), VersionId: aws.String("null")}))
	if readAll(t, g.Body) != "v" {
		t.Fatal("GET of version null")
	}
	_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("vids"), Key: aws.String("k"), VersionId: aws.String("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")})
	wantAPIError(t, err, "InvalidArgument", 400)
	_, err = e.s3.DeleteObject(c, &s3.DeleteObjectInput{Bucket: aws.String("vids"), Key: aws.String("k"), VersionId: aws.String("other")})
	wantAPIError(t, err, "InvalidArgument", 400)
	if _, err := e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("vids"), Key: aws.String("k")}); err != nil {
		t.Fatalf("a refused versioned delete removed the object: %v", err)
	}
}
