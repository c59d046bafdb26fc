package integration

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// smallMultipart makes key an object of the given small parts through the SDK (each part may
// be small because only the last is size-checked, and one part is the last).
func smallMultipart(t *testing.T, e *env, bucket, key string, alg types.ChecksumAlgorithm, part []byte) (*s3.CompleteMultipartUploadInput, *s3.CompleteMultipartUploadOutput) {
	t.Helper()
	c := ctx(t)
	up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), ChecksumAlgorithm: alg}))
	p := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytesReader(part), ChecksumAlgorithm: alg}))
	in := &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag,
			ChecksumCRC32: p.ChecksumCRC32, ChecksumSHA256: p.ChecksumSHA256}}}}
	return in, must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, in))
}

// TestMetadataBytes: header values are bytes; one sent as Latin-1 (as Python's http.client
// sends 'é') comes back as the same byte, on every path that stores metadata.
func TestMetadataBytes(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "metabytes")
	const latin1 = "caf\xe9" // 'café' as Latin-1: not UTF-8
	const utf8 = "caf\u00e9" // 'café' as UTF-8
	const disposition = "attachment; filename=\"caf\xe9.txt\""
	sent := map[string]string{"X-Amz-Meta-Latin1": latin1, "X-Amz-Meta-Utf8": utf8, "Content-Disposition": disposition}
	check := func(t *testing.T, key string) {
		t.Helper()
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			resp := e.raw(t, method, "/metabytes/"+key, "", nil, nowUTC())
			if resp.StatusCode != 200 {
				t.Fatalf("%s: status %d", method, resp.StatusCode)
			}
			for k, want := range sent {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s %s = %q, want %q", method, k, got, want)
				}
			}
		}
		h := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("metabytes"), Key: aws.String(key)}))
		if h.Metadata["latin1"] != latin1 || h.Metadata["utf8"] != utf8 {
			t.Errorf("SDK HeadObject metadata %q", h.Metadata)
		}
	}
	t.Run("put", func(t *testing.T) {
		resp := e.raw(t, http.MethodPut, "/metabytes/put", "body", sent, nowUTC())
		if resp.StatusCode != 200 {
			t.Fatalf("PUT: status %d: %s", resp.StatusCode, mustRead(t, resp))
		}
		check(t, "put")
	})
	t.Run("copy", func(t *testing.T) {
		must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: aws.String("metabytes"), Key: aws.String("copy"), CopySource: aws.String("metabytes/put")}))
		check(t, "copy")
	})
	t.Run("multipart", func(t *testing.T) {
		resp := e.raw(t, http.MethodPost, "/metabytes/mpu?uploads", "", sent, nowUTC())
		var res struct{ UploadId string }
		if err := xml.Unmarshal(mustRead(t, resp), &res); err != nil || resp.StatusCode != 200 {
			t.Fatalf("CreateMultipartUpload: status %d, %v", resp.StatusCode, err)
		}
		p := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String("metabytes"), Key: aws.String("mpu"),
			UploadId: aws.String(res.UploadId), PartNumber: aws.Int32(1), Body: stringsReader("part")}))
		must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String("metabytes"), Key: aws.String("mpu"), UploadId: aws.String(res.UploadId),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag}}}}))
		check(t, "mpu")
	})
}

// TestContentEncodingKept: aws-chunked is framing and is dropped; the rest of Content-Encoding
// is stored exactly as sent.
func TestContentEncodingKept(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "encodings")
	tests := []struct{ name, sent, want string }{
		{"first", "aws-chunked, deflate, gzip", "deflate, gzip"},
		{"middle", "deflate, aws-chunked, gzip", "deflate, gzip"},
		{"last", "deflate,gzip,aws-chunked", "deflate,gzip"},
		{"case", "AWS-Chunked, br", "br"},
		{"only", "aws-chunked", ""},
		{"none", "gzip,  deflate", "gzip,  deflate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.raw(t, http.MethodPut, "/encodings/"+tc.name, "x", map[string]string{"Content-Encoding": tc.sent}, nowUTC())
			if resp.StatusCode != 200 {
				t.Fatalf("PUT: status %d: %s", resp.StatusCode, mustRead(t, resp))
			}
			h := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("encodings"), Key: aws.String(tc.name)}))
			if got := aws.ToString(h.ContentEncoding); got != tc.want {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("sdk aws-chunked upload", func(t *testing.T) {
		// Over HTTPS the SDK streams the body aws-chunked with a checksum trailer and adds
		// aws-chunked to the encodings it was given.
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("encodings"), Key: aws.String("sdk"),
			Body: bytesReader(randomBytes(3, 70_000)), ContentEncoding: aws.String("deflate, gzip")}))
		h := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("encodings"), Key: aws.String("sdk")}))
		if got := aws.ToString(h.ContentEncoding); got != "deflate, gzip" {
			t.Fatalf("Content-Encoding %q, want %q", got, "deflate, gzip")
		}
	})
}

// TestPartNumberBeyondParts: a partNumber the object does not have is 400 InvalidPartNumber.
func TestPartNumberBeyondParts(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "partnums")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("partnums"), Key: aws.String("single"), Body: stringsReader("one")}))
	smallMultipart(t, e, "partnums", "multi", "", []byte("part one"))
	tests := []struct {
		key  string
		part int32
		ok   bool
	}{
		{"single", 1, true}, {"single", 2, false}, {"multi", 1, true}, {"multi", 2, false}, {"multi", 10000, false},
	}
	for _, tc := range tests {
		t.Run(tc.key+"/"+strconv.Itoa(int(tc.part)), func(t *testing.T) {
			_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("partnums"), Key: aws.String(tc.key), PartNumber: aws.Int32(tc.part)})
			_, herr := e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("partnums"), Key: aws.String(tc.key), PartNumber: aws.Int32(tc.part)})
			if tc.ok {
				if err != nil || herr != nil {
					t.Fatalf("GET: %v; HEAD: %v", err, herr)
				}
				return
			}
			wantAPIError(t, err, "InvalidPartNumber", 400)
			wantAPIError(t, herr, "", 400) // a HEAD error has no body to carry the code
		})
	}
}

// TestUploadPartCopyRange: a source range past the source's end is 400 InvalidRange; a
// malformed one is InvalidArgument.
func TestUploadPartCopyRange(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "copyrange")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("copyrange"), Key: aws.String("src"), Body: stringsReader("12345")}))
	up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String("copyrange"), Key: aws.String("dst")}))
	tests := []struct {
		rng, code string
		status    int
	}{
		{"bytes=0-4", "", 200},
		{"bytes=0-21", "InvalidRange", 400},
		{"bytes=5-5", "InvalidRange", 400},
		{"bytes=3-1", "InvalidArgument", 400},
		{"0-4", "InvalidArgument", 400},
		{"bytes=-2", "InvalidArgument", 400},
	}
	for _, tc := range tests {
		t.Run(tc.rng, func(t *testing.T) {
			_, err := e.s3.UploadPartCopy(c, &s3.UploadPartCopyInput{Bucket: aws.String("copyrange"), Key: aws.String("dst"), UploadId: up.UploadId,
				PartNumber: aws.Int32(1), CopySource: aws.String("copyrange/src"), CopySourceRange: aws.String(tc.rng)})
			if tc.status == 200 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAPIError(t, err, tc.code, tc.status)
		})
	}
}
