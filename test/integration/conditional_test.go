package integration

import (
	"errors"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// TestConditionalWrites covers If-None-Match: * and If-Match on PutObject and
// CompleteMultipartUpload, including a race of creators of which exactly one may win (what
// lock files such as Terraform's S3 state lock rely on).
func TestConditionalWrites(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "cond")
	b := aws.String("cond")
	put := func(key, body string, mod func(*s3.PutObjectInput)) (*s3.PutObjectOutput, error) {
		in := &s3.PutObjectInput{Bucket: b, Key: aws.String(key), Body: stringsReader(body)}
		if mod != nil {
			mod(in)
		}
		return e.s3.PutObject(c, in)
	}
	first := must[*s3.PutObjectOutput](t)(put("lock", "one", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }))
	_, err := put("lock", "two", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
	wantAPIError(t, err, "PreconditionFailed", 412)
	_, err = put("lock", "two", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(`"00000000000000000000000000000000"`) })
	wantAPIError(t, err, "PreconditionFailed", 412)
	if got := readAll(t, must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: aws.String("lock")})).Body); got != "one" {
		t.Fatalf("refused writes changed the object: %q", got)
	}
	must[*s3.PutObjectOutput](t)(put("lock", "three", func(in *s3.PutObjectInput) { in.IfMatch = first.ETag }))
	_, err = put("absent", "x", func(in *s3.PutObjectInput) { in.IfMatch = first.ETag })
	wantAPIError(t, err, "NoSuchKey", 404)
	_, err = put("lock", "x", func(in *s3.PutObjectInput) { in.IfNoneMatch = first.ETag })
	wantAPIError(t, err, "NotImplemented", 501)

	t.Run("race of creators", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for w := range 8 {
			wg.Go(func() {
				_, err := put("race", string(rune('a'+w)), func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
				var ae smithy.APIError
				switch {
				case err == nil:
					mu.Lock()
					wins++
					mu.Unlock()
				case errors.As(err, &ae) && ae.ErrorCode() == "PreconditionFailed":
				default:
					t.Errorf("racer %d: %v", w, err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d racing creators won, want exactly 1", wins)
		}
	})
	t.Run("complete multipart if absent", func(t *testing.T) {
		cu := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("lock")}))
		p := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: b, Key: aws.String("lock"), UploadId: cu.UploadId, PartNumber: aws.Int32(1), Body: stringsReader("mp")}))
		in := &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("lock"), UploadId: cu.UploadId, IfNoneMatch: aws.String("*"),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag}}}}
		_, err := e.s3.CompleteMultipartUpload(c, in)
		wantAPIError(t, err, "PreconditionFailed", 412)
		// The upload is still there, and completes without the condition.
		in.IfNoneMatch = nil
		must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, in))
	})
}
