package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestCompleteMultipartUploadRetry: a completion repeated after it succeeded (an SDK retrying
// a lost response) answers 200 with the same object, while the object is still the upload's.
func TestCompleteMultipartUploadRetry(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "retries")
	in, first := smallMultipart(t, e, "retries", "k", types.ChecksumAlgorithmCrc32, []byte("the only part"))

	t.Run("same parts", func(t *testing.T) {
		again := must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, in))
		if aws.ToString(again.ETag) != aws.ToString(first.ETag) || aws.ToString(again.ChecksumCRC32) != aws.ToString(first.ChecksumCRC32) ||
			aws.ToString(again.Key) != "k" || aws.ToString(again.Bucket) != "retries" {
			t.Fatalf("retry answered ETag %s checksum %s, first %s %s", aws.ToString(again.ETag), aws.ToString(again.ChecksumCRC32),
				aws.ToString(first.ETag), aws.ToString(first.ChecksumCRC32))
		}
	})
	t.Run("same parts with If-None-Match", func(t *testing.T) {
		cond := *in
		cond.IfNoneMatch = aws.String("*")
		again := must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &cond))
		if aws.ToString(again.ETag) != aws.ToString(first.ETag) {
			t.Fatalf("retry ETag %s, want %s", aws.ToString(again.ETag), aws.ToString(first.ETag))
		}
	})
	t.Run("other parts", func(t *testing.T) {
		other := *in
		other.MultipartUpload = &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"00000000000000000000000000000000"`)}}}
		_, err := e.s3.CompleteMultipartUpload(c, &other)
		wantAPIError(t, err, "InvalidPart", 400)
		other.MultipartUpload = &types.CompletedMultipartUpload{Parts: append(in.MultipartUpload.Parts, types.CompletedPart{PartNumber: aws.Int32(2), ETag: first.ETag})}
		_, err = e.s3.CompleteMultipartUpload(c, &other)
		wantAPIError(t, err, "InvalidPart", 400)
	})
	t.Run("unknown upload id", func(t *testing.T) {
		other := *in
		other.UploadId = aws.String("no-such-upload")
		_, err := e.s3.CompleteMultipartUpload(c, &other)
		wantAPIError(t, err, "NoSuchUpload", 404)
	})
	t.Run("object since overwritten", func(t *testing.T) {
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("retries"), Key: aws.String("k"), Body: stringsReader("new")}))
		_, err := e.s3.CompleteMultipartUpload(c, in)
		wantAPIError(t, err, "NoSuchUpload", 404)
	})
	t.Run("object since deleted", func(t *testing.T) {
		in2, _ := smallMultipart(t, e, "retries", "d", "", []byte("part"))
		must[*s3.DeleteObjectOutput](t)(e.s3.DeleteObject(c, &s3.DeleteObjectInput{Bucket: aws.String("retries"), Key: aws.String("d")}))
		_, err := e.s3.CompleteMultipartUpload(c, in2)
		wantAPIError(t, err, "NoSuchUpload", 404)
	})
	t.Run("aborted upload", func(t *testing.T) {
		up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String("retries"), Key: aws.String("a")}))
		must[*s3.AbortMultipartUploadOutput](t)(e.s3.AbortMultipartUpload(c, &s3.AbortMultipartUploadInput{Bucket: aws.String("retries"), Key: aws.String("a"), UploadId: up.UploadId}))
		_, err := e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: aws.String("retries"), Key: aws.String("a"), UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"x"`)}}}})
		wantAPIError(t, err, "NoSuchUpload", 404)
	})
	t.Run("concurrent completions", func(t *testing.T) {
		up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String("retries"), Key: aws.String("c")}))
		p := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String("retries"), Key: aws.String("c"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: stringsReader("part")}))
		in3 := &s3.CompleteMultipartUploadInput{Bucket: aws.String("retries"), Key: aws.String("c"), UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag}}}}
		const n = 8
		etags := make(chan string, n)
		errs := make(chan error, n)
		for range n {
			go func() {
				out, err := e.s3.CompleteMultipartUpload(c, in3)
				if err != nil {
					errs <- err
					return
				}
				etags <- aws.ToString(out.ETag)
			}()
		}
		seen := map[string]int{}
		for range n {
			select {
			case err := <-errs:
				t.Fatalf("a concurrent completion failed: %v", err)
			case et := <-etags:
				seen[et]++
			}
		}
		if len(seen) != 1 {
			t.Fatalf("completions answered different ETags: %v", seen)
		}
	})
}
