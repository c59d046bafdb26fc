package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// R1: DELETE ?versionId=<bogus> on an unversioned bucket deletes the live object.
func TestReviewDeleteWithVersionIDDeletesLive(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("rv1")}))
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("rv1"), Key: aws.String("k"), Body: stringsReader("live")}))
	// GET of a specific (nonexistent) version returns the live object.
	g, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("rv1"), Key: aws.String("k"), VersionId: aws.String("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")})
	if err == nil {
		t.Errorf("GET versionId=bogus returned the live object %q; AWS: 400 InvalidArgument / 404 NoSuchVersion", readAll(t, g.Body))
	}
	_, err = e.s3.DeleteObject(c, &s3.DeleteObjectInput{Bucket: aws.String("rv1"), Key: aws.String("k"), VersionId: aws.String("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")})
	t.Logf("DELETE versionId=bogus: err=%v", err)
	if _, err := e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("rv1"), Key: aws.String("k")}); err != nil {
		t.Errorf("live object gone after DELETE of another version: %v", err)
	}
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("rv1"), Key: aws.String("k2"), Body: stringsReader("live")}))
	out, err := e.s3.DeleteObjects(c, &s3.DeleteObjectsInput{Bucket: aws.String("rv1"), Delete: &s3Delete{Objects: []s3ObjID{{Key: aws.String("k2"), VersionId: aws.String("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")}}}})
	t.Logf("DeleteObjects with VersionId: %+v %v", out, err)
	if _, err := e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("rv1"), Key: aws.String("k2")}); err != nil {
		t.Errorf("live object gone after DeleteObjects of another version: %v", err)
	}
}

// R2: conditional writes (If-None-Match: *, If-Match) are silently ignored.
func TestReviewConditionalPutIgnored(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("rv2")}))
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("rv2"), Key: aws.String("lock"), Body: stringsReader("owner-A")}))
	_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("rv2"), Key: aws.String("lock"), Body: stringsReader("owner-B"), IfNoneMatch: aws.String("*")})
	if err == nil {
		g := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("rv2"), Key: aws.String("lock")}))
		t.Errorf("PUT If-None-Match:* on an existing key succeeded; object now %q (AWS: 412 PreconditionFailed)", readAll(t, g.Body))
	}
	_, err = e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("rv2"), Key: aws.String("lock"), Body: stringsReader("owner-C"), IfMatch: aws.String(`"00000000000000000000000000000000"`)})
	if err == nil {
		t.Errorf("PUT If-Match:<wrong etag> succeeded (AWS: 412 PreconditionFailed)")
	}
	// Multipart completion with If-None-Match: *.
	u := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String("rv2"), Key: aws.String("lock")}))
	p := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String("rv2"), Key: aws.String("lock"), UploadId: u.UploadId, PartNumber: aws.Int32(1), Body: stringsReader("owner-D")}))
	_, err = e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: aws.String("rv2"), Key: aws.String("lock"), UploadId: u.UploadId, IfNoneMatch: aws.String("*"),
		MultipartUpload: &s3Completed{Parts: []s3CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag}}}})
	if err == nil {
		t.Errorf("CompleteMultipartUpload If-None-Match:* on an existing key succeeded (AWS: 412)")
	}
}

// R3: ListMultipartUploads with a delimiter never terminates when paginated.
func TestReviewListUploadsDelimiterLoops(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("rv3")}))
	for _, k := range []string{"a/1", "a/2", "b"} {
		must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String("rv3"), Key: aws.String(k)}))
	}
	var keyMarker, idMarker *string
	var seen []string
	for page := 0; page < 6; page++ {
		out, err := e.s3.ListMultipartUploads(c, &s3.ListMultipartUploadsInput{Bucket: aws.String("rv3"), Delimiter: aws.String("/"), MaxUploads: aws.Int32(1), KeyMarker: keyMarker, UploadIdMarker: idMarker})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.CommonPrefixes {
			seen = append(seen, "CP:"+*p.Prefix)
		}
		for _, u := range out.Uploads {
			seen = append(seen, "U:"+*u.Key)
		}
		if !aws.ToBool(out.IsTruncated) {
			t.Logf("pages ok: %v", seen)
			return
		}
		keyMarker, idMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	t.Errorf("pagination did not end after 6 pages; entries: %v", seen)
}

// R4: a GET racing an overwrite of a blob-backed object answers 404 NoSuchKey although the key
// always existed.
func TestReviewGetDuringOverwrite404(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("rv4")}))
	data := bytes.Repeat([]byte("x"), 64<<10)
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("rv4"), Key: aws.String("k"), Body: bytes.NewReader(data)}))
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; i < 300 && !stop.Load(); i++ {
			if _, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("rv4"), Key: aws.String("k"), Body: bytes.NewReader(data)}); err != nil {
				t.Error(err)
				return
			}
		}
		stop.Store(true)
	})
	var notFound, ok atomic.Int64
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				g, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("rv4"), Key: aws.String("k")})
				var re *awshttp.ResponseError
				if errors.As(err, &re) && re.HTTPStatusCode() == 404 {
					if notFound.Add(1) == 1 {
						t.Logf("first 404: %v; Content-Length header %q, ETag %q", err, re.Response.Header.Get("Content-Length"), re.Response.Header.Get("ETag"))
					}
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, g.Body)
				g.Body.Close()
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if notFound.Load() > 0 {
		t.Errorf("%d of %d GETs answered NoSuchKey during overwrites of an always-present key", notFound.Load(), notFound.Load()+ok.Load())
	}
}

var _ = fmt.Sprint
var _ = strings.Repeat

type (
	s3Delete        = types.Delete
	s3ObjID         = types.ObjectIdentifier
	s3Completed     = types.CompletedMultipartUpload
	s3CompletedPart = types.CompletedPart
)

// R5: a SigV2 presigned URL signs the path only, not the bucket of a virtual-host request, so a
// URL presigned for object "dst" in bucket "src" (https://src.localhost/dst) also lists bucket
// "dst" when replayed path-style (https://localhost/dst).
// TestSigV2PresignedAddressing: a SigV2 signature covers the path, not the host, so SigV2
// presigned URLs work path-style and are refused virtual-host style, where the same path would
// name an object of another bucket.
func TestSigV2PresignedAddressing(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	for _, b := range []string{"src", "dst"} {
		must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String(b)}))
	}
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("dst"), Body: stringsReader("shared")}))
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("dst"), Key: aws.String("secret-object"), Body: stringsReader("private")}))
	port := portOf(strings.TrimPrefix(e.srv.URL, "https://"))
	get := func(u string) (int, string) {
		resp, err := e.http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get("https://localhost:" + port + "/src/dst" + presignV2GetQuery("/src/dst")); st != 200 || body != "shared" {
		t.Fatalf("path-style SigV2 presigned GET: %d %q", st, body)
	}
	for _, resource := range []string{"/dst", "/src/dst"} {
		if st, body := get("https://src.localhost:" + port + "/dst" + presignV2GetQuery(resource)); st != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
			t.Errorf("virtual-host SigV2 signed over %s: %d %s", resource, st, body)
		}
	}
}

// R6: CompleteMultipartUpload with the full-object checksum (x-amz-checksum-crc32 header, as the
// SDK sends CompleteMultipartUploadInput.ChecksumCRC32) fails: readSmallBody checks the header
// against the XML request body.
func TestReviewCompleteFullObjectChecksum(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("rv6")}))
	u := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String("rv6"), Key: aws.String("k"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32, ChecksumType: types.ChecksumTypeFullObject}))
	body := []byte("hello world")
	p := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String("rv6"), Key: aws.String("k"), UploadId: u.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(body), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}))
	full := aws.ToString(p.ChecksumCRC32) // one part: the full-object CRC is the part's CRC
	done, err := e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: aws.String("rv6"), Key: aws.String("k"), UploadId: u.UploadId,
		ChecksumCRC32: aws.String(full), ChecksumType: types.ChecksumTypeFullObject,
		MultipartUpload: &s3Completed{Parts: []s3CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32}}}})
	if err != nil {
		t.Fatalf("Complete with the correct full-object CRC32 %s failed: %v", full, err)
	}
	t.Logf("ok: %s", aws.ToString(done.ChecksumCRC32))
}

// R7: object-lock requests are silently dropped: a bucket asked with object lock is created
// without it, and a PUT asking for COMPLIANCE retention succeeds and the object is deletable.
func TestReviewObjectLockSilentlyIgnored(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	if _, err := e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("rv7"), ObjectLockEnabledForBucket: aws.Bool(true)}); err == nil {
		t.Errorf("CreateBucket with object lock succeeded without object lock")
	} else {
		must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("rv7")}))
	}
	_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("rv7"), Key: aws.String("k"), Body: stringsReader("keep me"),
		ObjectLockMode: types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(24 * time.Hour))})
	if err == nil {
		_, derr := e.s3.DeleteObject(c, &s3.DeleteObjectInput{Bucket: aws.String("rv7"), Key: aws.String("k")})
		t.Errorf("PUT with COMPLIANCE retention succeeded (AWS: 400 InvalidRequest, bucket lacks object lock); delete then: %v", derr)
	}
}

// R8: conditional CopyObject (If-None-Match / If-Match on the destination) and conditional
// DeleteObject (If-Match) are silently ignored.
func TestReviewConditionalCopyDeleteIgnored(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("rv8")}))
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("rv8"), Key: aws.String("src"), Body: stringsReader("new")}))
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("rv8"), Key: aws.String("dst"), Body: stringsReader("existing")}))
	if _, err := e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: aws.String("rv8"), Key: aws.String("dst"), CopySource: aws.String("rv8/src"), IfNoneMatch: aws.String("*")}); err == nil {
		t.Errorf("CopyObject If-None-Match:* onto an existing key succeeded (AWS: 412)")
	}
	if _, err := e.s3.DeleteObject(c, &s3.DeleteObjectInput{Bucket: aws.String("rv8"), Key: aws.String("src"), IfMatch: aws.String(`"00000000000000000000000000000000"`)}); err == nil {
		if _, herr := e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("rv8"), Key: aws.String("src")}); herr != nil {
			t.Errorf("DeleteObject If-Match:<wrong etag> deleted the object (AWS: 412)")
		}
	}
}
