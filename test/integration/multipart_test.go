package integration

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const mib = 1 << 20

// multipartETag is the S3 ETag of an object made of parts.
func multipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		s := md5.Sum(p)
		h.Write(s[:])
	}
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(h.Sum(nil)), len(parts))
}

func TestMultipart(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "mpu")
	p1, p2, p3 := randomBytes(11, 5*mib), randomBytes(12, 5*mib+17), randomBytes(13, 1234)
	create := func(key string, alg types.ChecksumAlgorithm) string {
		t.Helper()
		out := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{
			Bucket: aws.String("mpu"), Key: aws.String(key), ContentType: aws.String("video/x-test"),
			Metadata: map[string]string{"m": "1"}, ChecksumAlgorithm: alg,
		}))
		return aws.ToString(out.UploadId)
	}
	upload := func(key, id string, n int32, data []byte) types.CompletedPart {
		t.Helper()
		out := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{
			Bucket: aws.String("mpu"), Key: aws.String(key), UploadId: aws.String(id), PartNumber: aws.Int32(n), Body: bytesReader(data),
		}))
		return types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32}
	}

	t.Run("complete", func(t *testing.T) {
		id := create("big", "")
		parts := []types.CompletedPart{upload("big", id, 1, p1), upload("big", id, 2, p2), upload("big", id, 3, p3)}
		lp := must[*s3.ListPartsOutput](t)(e.s3.ListParts(c, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: aws.String(id)}))
		if len(lp.Parts) != 3 || aws.ToInt64(lp.Parts[1].Size) != int64(len(p2)) || aws.ToString(lp.Parts[2].ETag) != aws.ToString(parts[2].ETag) {
			t.Fatalf("ListParts: %+v", lp.Parts)
		}
		lp = must[*s3.ListPartsOutput](t)(e.s3.ListParts(c, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: aws.String(id), MaxParts: aws.Int32(2)}))
		if len(lp.Parts) != 2 || !aws.ToBool(lp.IsTruncated) || aws.ToString(lp.NextPartNumberMarker) != "2" {
			t.Fatalf("ListParts max 2: %d parts, truncated %v, next %v", len(lp.Parts), aws.ToBool(lp.IsTruncated), aws.ToString(lp.NextPartNumberMarker))
		}
		lu := must[*s3.ListMultipartUploadsOutput](t)(e.s3.ListMultipartUploads(c, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")}))
		if len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != id {
			t.Fatalf("ListMultipartUploads: %+v", lu.Uploads)
		}
		out := must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		}))
		if want := multipartETag(p1, p2, p3); aws.ToString(out.ETag) != want {
			t.Fatalf("ETag %s, want %s", aws.ToString(out.ETag), want)
		}
		g := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big")}))
		if got := readAll(t, g.Body); got != string(p1)+string(p2)+string(p3) {
			t.Fatalf("assembled object differs (%d bytes)", len(got))
		}
		if aws.ToString(g.ContentType) != "video/x-test" || g.Metadata["m"] != "1" {
			t.Fatalf("upload metadata lost: %s %v", aws.ToString(g.ContentType), g.Metadata)
		}
		// A range across the part boundary.
		r := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big"), Range: aws.String(fmt.Sprintf("bytes=%d-%d", 5*mib-10, 5*mib+9))}))
		if got := readAll(t, r.Body); got != string(p1[5*mib-10:])+string(p2[:10]) {
			t.Fatal("range across parts differs")
		}
		// partNumber reads.
		pn := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big"), PartNumber: aws.Int32(2)}))
		if got := readAll(t, pn.Body); got != string(p2) || aws.ToInt32(pn.PartsCount) != 3 {
			t.Fatalf("partNumber=2: %d bytes, parts count %d", len(got), aws.ToInt32(pn.PartsCount))
		}
		_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big"), PartNumber: aws.Int32(4)})
		wantAPIError(t, err, "InvalidPartNumber", 400)
		lu = must[*s3.ListMultipartUploadsOutput](t)(e.s3.ListMultipartUploads(c, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")}))
		if len(lu.Uploads) != 0 {
			t.Fatalf("upload still listed after completion: %+v", lu.Uploads)
		}
	})
	t.Run("errors", func(t *testing.T) {
		id := create("bad", "")
		a := upload("bad", id, 1, p3) // too small to be a non-last part
		b := upload("bad", id, 2, p3)
		complete := func(parts ...types.CompletedPart) error {
			_, err := e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{
				Bucket: aws.String("mpu"), Key: aws.String("bad"), UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
			return err
		}
		wantAPIError(t, complete(a, b), "EntityTooSmall", 400)
		wantAPIError(t, complete(b, a), "InvalidPartOrder", 400)
		wrong := b
		wrong.ETag = aws.String(`"00000000000000000000000000000000"`)
		wantAPIError(t, complete(wrong), "InvalidPart", 400)
		missing := types.CompletedPart{PartNumber: aws.Int32(9), ETag: b.ETag}
		wantAPIError(t, complete(missing), "InvalidPart", 400)
		_, err := e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("bad"), UploadId: aws.String("nope"), PartNumber: aws.Int32(1), Body: bytesReader(p3)})
		wantAPIError(t, err, "NoSuchUpload", 404)
		_, err = e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("bad"), UploadId: aws.String(id), PartNumber: aws.Int32(10001), Body: bytesReader(p3)})
		wantAPIError(t, err, "InvalidArgument", 400)
		// The upload survives failed completions, and one part alone may be small.
		if err := complete(b); err != nil {
			t.Fatalf("single small last part: %v", err)
		}
		_, err = e.s3.ListParts(c, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("bad"), UploadId: aws.String(id)})
		wantAPIError(t, err, "NoSuchUpload", 404)
	})
	t.Run("part replaced", func(t *testing.T) {
		id := create("rep", "")
		upload("rep", id, 1, p1)
		a := upload("rep", id, 1, p2)
		must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String("mpu"), Key: aws.String("rep"), UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{a}}}))
		g := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("rep")}))
		if readAll(t, g.Body) != string(p2) {
			t.Fatal("replaced part not used")
		}
	})
	t.Run("abort", func(t *testing.T) {
		id := create("ab", "")
		upload("ab", id, 1, p3)
		must[*s3.AbortMultipartUploadOutput](t)(e.s3.AbortMultipartUpload(c, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("ab"), UploadId: aws.String(id)}))
		_, err := e.s3.AbortMultipartUpload(c, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("ab"), UploadId: aws.String(id)})
		wantAPIError(t, err, "NoSuchUpload", 404)
	})
	t.Run("upload part copy", func(t *testing.T) {
		src := randomBytes(21, 6*mib)
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("mpu"), Key: aws.String("src"), Body: bytesReader(src)}))
		id := create("pc", "")
		c1 := must[*s3.UploadPartCopyOutput](t)(e.s3.UploadPartCopy(c, &s3.UploadPartCopyInput{Bucket: aws.String("mpu"), Key: aws.String("pc"), UploadId: aws.String(id),
			PartNumber: aws.Int32(1), CopySource: aws.String("mpu/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", 5*mib-1))}))
		c2 := must[*s3.UploadPartCopyOutput](t)(e.s3.UploadPartCopy(c, &s3.UploadPartCopyInput{Bucket: aws.String("mpu"), Key: aws.String("pc"), UploadId: aws.String(id),
			PartNumber: aws.Int32(2), CopySource: aws.String("mpu/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", 5*mib, 6*mib-1))}))
		_, err := e.s3.UploadPartCopy(c, &s3.UploadPartCopyInput{Bucket: aws.String("mpu"), Key: aws.String("pc"), UploadId: aws.String(id),
			PartNumber: aws.Int32(3), CopySource: aws.String("mpu/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", 6*mib))})
		wantAPIError(t, err, "InvalidRange", 400)
		must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String("mpu"), Key: aws.String("pc"), UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
				{PartNumber: aws.Int32(1), ETag: c1.CopyPartResult.ETag}, {PartNumber: aws.Int32(2), ETag: c2.CopyPartResult.ETag}}}}))
		g := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("pc")}))
		if readAll(t, g.Body) != string(src) {
			t.Fatal("part-copied object differs from its source")
		}
	})
	t.Run("checksums composite and full object", func(t *testing.T) {
		for _, tc := range []struct {
			alg   types.ChecksumAlgorithm
			ctype types.ChecksumType
		}{{types.ChecksumAlgorithmCrc32, types.ChecksumTypeComposite}, {types.ChecksumAlgorithmCrc32c, types.ChecksumTypeFullObject}, {types.ChecksumAlgorithmCrc64nvme, types.ChecksumTypeFullObject}, {types.ChecksumAlgorithmSha256, types.ChecksumTypeComposite}} {
			t.Run(string(tc.alg)+"/"+string(tc.ctype), func(t *testing.T) {
				key := "ck-" + string(tc.alg)
				cu := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{
					Bucket: aws.String("mpu"), Key: aws.String(key), ChecksumAlgorithm: tc.alg, ChecksumType: tc.ctype}))
				var parts []types.CompletedPart
				for i, data := range [][]byte{p1, p3} {
					out := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String(key), UploadId: cu.UploadId,
						PartNumber: aws.Int32(int32(i + 1)), Body: bytesReader(data), ChecksumAlgorithm: tc.alg}))
					parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32,
						ChecksumCRC32C: out.ChecksumCRC32C, ChecksumCRC64NVME: out.ChecksumCRC64NVME, ChecksumSHA256: out.ChecksumSHA256})
				}
				done := must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{
					Bucket: aws.String("mpu"), Key: aws.String(key), UploadId: cu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}))
				if done.ChecksumType != tc.ctype {
					t.Fatalf("checksum type %q, want %q", done.ChecksumType, tc.ctype)
				}
				// With validation on, the SDK checks a full-object checksum against the body
				// it reads: a wrong combined CRC fails here.
				g := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled}))
				if readAll(t, g.Body) != string(p1)+string(p3) {
					t.Fatal("body differs")
				}
				if g.ChecksumType != tc.ctype {
					t.Fatalf("GET checksum type %q", g.ChecksumType)
				}
			})
		}
	})
}
