package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestGetObjectAttributes(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "attrs")
	b := aws.String("attrs")
	all := []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum, types.ObjectAttributesObjectParts,
		types.ObjectAttributesStorageClass, types.ObjectAttributesObjectSize}

	put := must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("single"), Body: stringsReader("single part body")}))
	out := must[*s3.GetObjectAttributesOutput](t)(e.s3.GetObjectAttributes(c, &s3.GetObjectAttributesInput{Bucket: b, Key: aws.String("single"), ObjectAttributes: all}))
	if `"`+aws.ToString(out.ETag)+`"` != aws.ToString(put.ETag) || aws.ToInt64(out.ObjectSize) != 16 || out.StorageClass != types.StorageClassStandard {
		t.Fatalf("single: etag %q size %d class %q", aws.ToString(out.ETag), aws.ToInt64(out.ObjectSize), out.StorageClass)
	}
	if out.Checksum == nil || aws.ToString(out.Checksum.ChecksumCRC32) != aws.ToString(put.ChecksumCRC32) || out.ObjectParts != nil {
		t.Fatalf("single: checksum %+v parts %+v", out.Checksum, out.ObjectParts)
	}

	p1, p2 := randomBytes(41, 5*mib), randomBytes(42, 100)
	cu := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("multi"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}))
	var parts []types.CompletedPart
	var partSums []string
	for i, data := range [][]byte{p1, p2} {
		up := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: b, Key: aws.String("multi"), UploadId: cu.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytesReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}))
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag, ChecksumCRC32: up.ChecksumCRC32})
		partSums = append(partSums, aws.ToString(up.ChecksumCRC32))
	}
	must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("multi"), UploadId: cu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}))
	out = must[*s3.GetObjectAttributesOutput](t)(e.s3.GetObjectAttributes(c, &s3.GetObjectAttributesInput{Bucket: b, Key: aws.String("multi"), ObjectAttributes: all, MaxParts: aws.Int32(1)}))
	op := out.ObjectParts
	if op == nil || aws.ToInt32(op.TotalPartsCount) != 2 || len(op.Parts) != 1 || !aws.ToBool(op.IsTruncated) || aws.ToString(op.NextPartNumberMarker) != "1" {
		t.Fatalf("multi page 1: %+v", op)
	}
	if aws.ToInt64(op.Parts[0].Size) != int64(len(p1)) || aws.ToString(op.Parts[0].ChecksumCRC32) != partSums[0] {
		t.Fatalf("part 1: %+v", op.Parts[0])
	}
	if out.Checksum == nil || out.Checksum.ChecksumType != types.ChecksumTypeComposite {
		t.Fatalf("multi checksum %+v", out.Checksum)
	}
	out = must[*s3.GetObjectAttributesOutput](t)(e.s3.GetObjectAttributes(c, &s3.GetObjectAttributesInput{Bucket: b, Key: aws.String("multi"), ObjectAttributes: all, PartNumberMarker: op.NextPartNumberMarker}))
	if len(out.ObjectParts.Parts) != 1 || aws.ToInt32(out.ObjectParts.Parts[0].PartNumber) != 2 || aws.ToBool(out.ObjectParts.IsTruncated) {
		t.Fatalf("multi page 2: %+v", out.ObjectParts)
	}
	_, err := e.s3.GetObjectAttributes(c, &s3.GetObjectAttributesInput{Bucket: b, Key: aws.String("missing"), ObjectAttributes: all})
	wantAPIError(t, err, "NoSuchKey", 404)
}
