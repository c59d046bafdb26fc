package integration

import (
	"encoding/base64"
	"errors"
	"hash/crc32"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// crc32b64 is the base64 CRC32 checksum S3 reports for b.
func crc32b64(b []byte) string {
	s := crc32.ChecksumIEEE(b)
	return base64.StdEncoding.EncodeToString([]byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)})
}

// wantMessage fails unless err is an API error with the message.
func wantMessage(t *testing.T, err error, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorMessage() != msg {
		t.Fatalf("error %v, want message %q", err, msg)
	}
}

// TestChecksumMismatchBadDigest: every place a sent digest is compared answers 400 BadDigest
// naming the digest, and stores nothing.
func TestChecksumMismatchBadDigest(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "digests")
	b := aws.String("digests")
	const crcMsg = "The CRC32 you specified did not match the calculated checksum."
	const md5Msg = "The Content-MD5 you specified did not match what we received."
	wrongCRC := crc32b64([]byte("other"))

	t.Run("PutObject checksum", func(t *testing.T) {
		_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("p"), Body: stringsReader("data"), ChecksumCRC32: aws.String(wrongCRC)})
		wantAPIError(t, err, "BadDigest", 400)
		wantMessage(t, err, crcMsg)
	})
	t.Run("PutObject Content-MD5", func(t *testing.T) {
		_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("p"), Body: stringsReader("data"), ContentMD5: aws.String(md5b64("other"))})
		wantAPIError(t, err, "BadDigest", 400)
		wantMessage(t, err, md5Msg)
	})
	t.Run("PutObject header of another algorithm than x-amz-sdk-checksum-algorithm", func(t *testing.T) {
		resp := e.raw(t, http.MethodPut, "/digests/p", "data", map[string]string{
			"X-Amz-Sdk-Checksum-Algorithm": "SHA256", "X-Amz-Checksum-Crc32": crc32b64([]byte("data"))}, nowUTC())
		wantRawError(t, resp, "BadDigest", 400)
	})
	t.Run("PutObject trailer", func(t *testing.T) {
		for _, tc := range []struct{ name, trailer, code string }{
			{"mismatch", wrongCRC, "BadDigest"},
			{"match", crc32b64([]byte("hello")), ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body := "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + tc.trailer + "\r\n\r\n"
				resp := e.raw(t, http.MethodPut, "/digests/trailer", body, map[string]string{
					"X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
					"X-Amz-Decoded-Content-Length": "5", "X-Amz-Trailer": "x-amz-checksum-crc32"}, nowUTC())
				if tc.code == "" {
					if resp.StatusCode != 200 {
						t.Fatalf("status %d: %s", resp.StatusCode, mustRead(t, resp))
					}
					return
				}
				if re := wantRawError(t, resp, tc.code, 400); re.Message != crcMsg {
					t.Fatalf("message %q", re.Message)
				}
			})
		}
	})
	t.Run("UploadPart checksum", func(t *testing.T) {
		up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("mpu"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}))
		_, err := e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: b, Key: aws.String("mpu"), UploadId: up.UploadId, PartNumber: aws.Int32(1),
			Body: stringsReader("part"), ChecksumCRC32: aws.String(wrongCRC)})
		wantAPIError(t, err, "BadDigest", 400)
		wantMessage(t, err, crcMsg)
		_, err = e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: b, Key: aws.String("mpu"), UploadId: up.UploadId, PartNumber: aws.Int32(1),
			Body: stringsReader("part"), ContentMD5: aws.String(md5b64("other"))})
		wantAPIError(t, err, "BadDigest", 400)
		wantMessage(t, err, md5Msg)
		parts := must[*s3.ListPartsOutput](t)(e.s3.ListParts(c, &s3.ListPartsInput{Bucket: b, Key: aws.String("mpu"), UploadId: up.UploadId}))
		if len(parts.Parts) != 0 {
			t.Fatalf("refused parts were stored: %+v", parts.Parts)
		}
	})
	t.Run("CompleteMultipartUpload whole-object checksum", func(t *testing.T) {
		for _, ct := range []types.ChecksumType{types.ChecksumTypeFullObject, types.ChecksumTypeComposite} {
			t.Run(string(ct), func(t *testing.T) {
				key := aws.String("whole-" + string(ct))
				up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: key,
					ChecksumAlgorithm: types.ChecksumAlgorithmCrc32, ChecksumType: ct}))
				p := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: b, Key: key, UploadId: up.UploadId,
					PartNumber: aws.Int32(1), Body: stringsReader("part"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}))
				_, err := e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: b, Key: key, UploadId: up.UploadId,
					ChecksumCRC32: aws.String(wrongCRC), ChecksumType: ct,
					MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32}}}})
				wantAPIError(t, err, "BadDigest", 400)
				wantMessage(t, err, crcMsg)
				_, err = e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: b, Key: key})
				wantAPIError(t, err, "NotFound", 404)
			})
		}
	})
	t.Run("CompleteMultipartUpload Content-MD5", func(t *testing.T) {
		body := "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"
		up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("cmd5")}))
		resp := e.raw(t, http.MethodPost, "/digests/cmd5?uploadId="+aws.ToString(up.UploadId), body, map[string]string{"Content-MD5": md5b64("other")}, nowUTC())
		if re := wantRawError(t, resp, "BadDigest", 400); re.Message != md5Msg {
			t.Fatalf("message %q", re.Message)
		}
	})
	t.Run("DeleteObjects Content-MD5", func(t *testing.T) {
		body := "<Delete><Object><Key>k</Key></Object></Delete>"
		resp := e.raw(t, http.MethodPost, "/digests?delete", body, map[string]string{"Content-MD5": md5b64("other")}, nowUTC())
		if re := wantRawError(t, resp, "BadDigest", 400); re.Message != md5Msg {
			t.Fatalf("message %q", re.Message)
		}
		resp = e.raw(t, http.MethodPost, "/digests?delete", body, map[string]string{"X-Amz-Checksum-Crc32": wrongCRC}, nowUTC())
		if re := wantRawError(t, resp, "BadDigest", 400); re.Message != crcMsg {
			t.Fatalf("message %q", re.Message)
		}
	})
	_, err := e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: b, Key: aws.String("p")})
	wantAPIError(t, err, "NotFound", 404)
}
