package s3blob

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/coffer/coffer/internal/blob"
)

const (
	// maxParts is S3's limit on the parts of one upload: a blob may be 10,000 parts long.
	maxParts = 10000
	// conflictRetries bounds the retries of a write refused with 409 ConditionalRequestConflict.
	conflictRetries = 5
	// abortTimeout bounds the abort of a failed upload, which runs even when ctx has ended.
	abortTimeout = 30 * time.Second
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c is the x-amz-checksum-crc32c value of b.
func crc32c(b []byte) *string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(b, castagnoli))
	return aws.String(base64.StdEncoding.EncodeToString(sum[:]))
}

// putSmall writes a blob that fits one part with one PutObject.
func (s *Store) putSmall(ctx context.Context, key string, b []byte) error {
	sum := crc32c(b)
	return s.createOnly(ctx, key, true, func(ifNoneMatch *string) error {
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(s.bucket), Key: aws.String(key),
			Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b))),
			ChecksumCRC32C: sum, IfNoneMatch: ifNoneMatch,
		})
		return err
	})
}

// putMultipart writes a blob whose first part fills buf, reading the rest of r part by part.
// While one part uploads the next is read into a second pooled buffer, so a Put holds at most
// two parts of memory. On any failure the upload is aborted.
func (s *Store) putMultipart(ctx context.Context, key string, r io.Reader, buf []byte) (total int64, err error) {
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
	})
	if err != nil {
		return 0, fmt.Errorf("create multipart upload: %w", err)
	}
	completed := false
	defer func() {
		if !completed {
			if aerr := s.abort(ctx, key, up.UploadId); aerr != nil {
				err = errors.Join(err, aerr)
			}
		}
	}()
	bp := s.parts.Get().(*[]byte)
	defer s.parts.Put(bp)
	bufs := [2][]byte{buf, *bp}
	type uploaded struct {
		part types.CompletedPart
		err  error
	}
	// A failed read ends the part upload in flight rather than wait for it.
	upCtx, cancelUpload := context.WithCancel(ctx)
	defer cancelUpload()
	var parts []types.CompletedPart
	n, eof := len(buf), false // bufs[(num-1)%2][:n] is part num; eof: it is the last
	for num := int32(1); ; num++ {
		if num > maxParts {
			return 0, fmt.Errorf("blob longer than %d parts of %d bytes", maxParts, len(buf))
		}
		done := make(chan uploaded, 1)
		go func(b []byte) {
			p, err := s.uploadPart(upCtx, key, up.UploadId, num, b)
			done <- uploaded{p, err}
		}(bufs[(num-1)%2][:n])
		total += int64(n)
		next, nextEOF, ferr := 0, true, error(nil)
		if !eof {
			next, nextEOF, ferr = fill(ctx, r, bufs[num%2])
		}
		if ferr != nil {
			cancelUpload()
		}
		// The upload must end before its buffer is refilled or returned to the pool.
		u := <-done
		if ferr != nil {
			return 0, ferr
		}
		if u.err != nil {
			return 0, u.err
		}
		parts = append(parts, u.part)
		if next == 0 {
			break // the blob was a whole number of parts long, or this was the last
		}
		n, eof = next, nextEOF
	}
	// Not retried on 409: S3 asks for a new upload then, and the body is consumed.
	err = s.createOnly(ctx, key, false, func(ifNoneMatch *string) error {
		_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
			IfNoneMatch:     ifNoneMatch,
		})
		return err
	})
	if err != nil {
		return 0, err
	}
	completed = true
	return total, nil
}

// uploadPart uploads one part with its CRC32C and returns its entry for the completion.
func (s *Store) uploadPart(ctx context.Context, key string, id *string, num int32, b []byte) (types.CompletedPart, error) {
	sum := crc32c(b)
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: id,
		PartNumber: aws.Int32(num), Body: bytes.NewReader(b),
		ContentLength: aws.Int64(int64(len(b))), ChecksumCRC32C: sum,
	})
	if err != nil {
		return types.CompletedPart{}, fmt.Errorf("upload part %d: %w", num, err)
	}
	return types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32C: sum}, nil
}

// abort aborts an upload, even after ctx has ended.
func (s *Store) abort(ctx context.Context, key string, id *string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: id,
	})
	if err != nil && httpStatus(err) != 404 {
		return fmt.Errorf("abort multipart upload %s (its parts stay until the bucket's lifecycle rule removes them): %w", aws.ToString(id), err)
	}
	return nil
}

// createOnly runs write, a PutObject or CompleteMultipartUpload, so that it creates key or
// fails with blob.ErrExists: with If-None-Match: * where the store supports it, else after a
// HEAD (racy; see the package comment). retryConflict retries a write refused with 409
// ConditionalRequestConflict, which S3 asks for a PutObject but not a CompleteMultipartUpload.
func (s *Store) createOnly(ctx context.Context, key string, retryConflict bool, write func(ifNoneMatch *string) error) error {
	for attempt := 0; ; attempt++ {
		cond := aws.String("*")
		if s.headCheck.Load() {
			cond = nil
			switch _, err := s.head(ctx, key); {
			case err == nil:
				return blob.ErrExists
			case !errors.Is(err, blob.ErrNotFound):
				return err
			}
		}
		err := write(cond)
		switch {
		case err == nil:
			return nil
		case httpStatus(err) == 412:
			return fmt.Errorf("%w: %w", blob.ErrExists, err)
		case retryConflict && apiCode(err) == "ConditionalRequestConflict" && attempt < conflictRetries:
			// Another conditional write of key is in flight; S3 asks to retry.
			if err := sleep(ctx, time.Duration(attempt+1)*50*time.Millisecond); err != nil {
				return err
			}
		case cond != nil && httpStatus(err) == 501:
			if !s.headCheck.Swap(true) {
				s.log.Warn("blob store refuses If-None-Match on writes: falling back to a HEAD check, which two writers of one name can both pass",
					"bucket", s.bucket, "error", err)
			}
		default:
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// httpStatus is the HTTP status of a failed call, 0 if it got no response.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// apiCode is the S3 error code of a failed call, "" if there is none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
