package integration

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestSSECrossModeCopy copies between SSE-KMS, DSSE-KMS and SSE-C objects in both directions
// (CopyObject and UploadPartCopy), writes SSE-C into a bucket whose default is SSE-KMS, and
// reads every result back: each object is encrypted as its destination asked, opens only as
// its mode allows, and reports only its own mode.
func TestSSECrossModeCopy(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bkt = "ssecross"
	newBucket(t, e, bkt)
	unblockSSEC(t, e, bkt)
	b := aws.String(bkt)
	id, arn := newKMSKey(t, e, "alias/cross")
	kmsNamed := kmsMode{name: "SSE-KMS", alg: types.ServerSideEncryptionAwsKms, keyID: id, wantARN: arn}
	kmsBucketKey := kmsMode{name: "SSE-KMS bucket key", alg: types.ServerSideEncryptionAwsKms, keyID: id, bucketKey: true, wantARN: arn}
	dsse := kmsMode{name: "DSSE-KMS", alg: types.ServerSideEncryptionAwsKmsDsse, keyID: id, wantARN: arn}
	keyA, keyB := newCustomerKey(1), newCustomerKey(2)
	body := sseBody(300<<10 + 5)

	// want is how each object must read back: under a customer key, or a KMS mode.
	type stored struct {
		body []byte
		ck   customerKey // raw nil: not SSE-C
		kms  *kmsMode    // nil: not a KMS mode
	}
	want := map[string]stored{}
	for _, m := range []kmsMode{kmsNamed, kmsBucketKey, dsse} {
		in := &s3.PutObjectInput{Bucket: b, Key: aws.String("src/" + m.name), Body: bytes.NewReader(body)}
		m.put(in)
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, in))
		want["src/"+m.name] = stored{body: body, kms: &m}
	}
	putSSEC(t, e, bkt, "src/SSE-C", body, keyA)
	want["src/SSE-C"] = stored{body: body, ck: keyA}

	t.Run("CopyObject", func(t *testing.T) {
		for _, tc := range []struct {
			name, src, dst string
			srcKey, dstKey customerKey
			dstKMS         *kmsMode
		}{
			{"SSE-KMS to SSE-C", "src/SSE-KMS", "kms-to-c", customerKey{}, keyB, nil},
			{"SSE-KMS bucket key to SSE-C", "src/SSE-KMS bucket key", "kmsbk-to-c", customerKey{}, keyB, nil},
			{"DSSE-KMS to SSE-C", "src/DSSE-KMS", "dsse-to-c", customerKey{}, keyB, nil},
			{"SSE-C to SSE-KMS", "src/SSE-C", "c-to-kms", keyA, customerKey{}, &kmsNamed},
			{"SSE-C to SSE-KMS bucket key", "src/SSE-C", "c-to-kmsbk", keyA, customerKey{}, &kmsBucketKey},
			{"SSE-C to DSSE-KMS", "src/SSE-C", "c-to-dsse", keyA, customerKey{}, &dsse},
			{"SSE-KMS onto itself as SSE-C", "src/SSE-KMS", "src/SSE-KMS", customerKey{}, keyB, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := &s3.CopyObjectInput{Bucket: b, Key: aws.String(tc.dst), CopySource: aws.String(bkt + "/" + tc.src)}
				if tc.srcKey.raw != nil {
					in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = tc.srcKey.alg(), tc.srcKey.key(), tc.srcKey.md5()
				}
				if tc.dstKey.raw != nil {
					in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = tc.dstKey.alg(), tc.dstKey.key(), tc.dstKey.md5()
				}
				if m := tc.dstKMS; m != nil {
					in.ServerSideEncryption, in.SSEKMSKeyId, in.BucketKeyEnabled = m.alg, aws.String(m.keyID), aws.Bool(m.bucketKey)
				}
				out := must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(c, in))
				if tc.dstKey.raw != nil {
					wantSSECEcho(t, "CopyObject", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5, tc.dstKey)
					if out.SSEKMSKeyId != nil || out.SSEKMSEncryptionContext != nil {
						t.Fatalf("CopyObject to SSE-C reports KMS key %q, context %q", aws.ToString(out.SSEKMSKeyId), aws.ToString(out.SSEKMSEncryptionContext))
					}
				} else {
					tc.dstKMS.check(t, "CopyObject", out.ServerSideEncryption, out.SSEKMSKeyId, out.BucketKeyEnabled)
					if out.SSECustomerAlgorithm != nil || out.SSECustomerKeyMD5 != nil {
						t.Fatalf("CopyObject to %s echoes a customer key", tc.dstKMS.name)
					}
				}
				wantOpaqueETag(t, "CopyObject", aws.ToString(out.CopyObjectResult.ETag), body)
				want[tc.dst] = stored{body: body, ck: tc.dstKey, kms: tc.dstKMS}
			})
		}
	})

	t.Run("UploadPartCopy", func(t *testing.T) {
		part1 := sseBody(5 << 20)
		t.Run("SSE-KMS part into an SSE-C upload", func(t *testing.T) {
			key := aws.String("mp-c")
			up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: key,
				SSECustomerAlgorithm: keyB.alg(), SSECustomerKey: keyB.key(), SSECustomerKeyMD5: keyB.md5()}))
			p1 := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: b, Key: key, UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(part1),
				SSECustomerAlgorithm: keyB.alg(), SSECustomerKey: keyB.key(), SSECustomerKeyMD5: keyB.md5()}))
			p2 := must[*s3.UploadPartCopyOutput](t)(e.s3.UploadPartCopy(c, &s3.UploadPartCopyInput{Bucket: b, Key: key, UploadId: up.UploadId, PartNumber: aws.Int32(2),
				CopySource: aws.String(bkt + "/src/DSSE-KMS"), CopySourceRange: aws.String("bytes=10-70009"),
				SSECustomerAlgorithm: keyB.alg(), SSECustomerKey: keyB.key(), SSECustomerKeyMD5: keyB.md5()}))
			wantSSECEcho(t, "UploadPartCopy", p2.ServerSideEncryption, p2.SSECustomerAlgorithm, p2.SSECustomerKeyMD5, keyB)
			wantOpaqueETag(t, "UploadPartCopy", aws.ToString(p2.CopyPartResult.ETag), body[10:70010])
			must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: b, Key: key, UploadId: up.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p1.ETag}, {PartNumber: aws.Int32(2), ETag: p2.CopyPartResult.ETag}}}}))
			want["mp-c"] = stored{body: append(bytes.Clone(part1), body[10:70010]...), ck: keyB}
		})
		t.Run("SSE-C part into an SSE-KMS upload", func(t *testing.T) {
			key := aws.String("mp-kms")
			up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: key,
				ServerSideEncryption: kmsBucketKey.alg, SSEKMSKeyId: aws.String(id), BucketKeyEnabled: aws.Bool(true)}))
			p1 := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: b, Key: key, UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(part1)}))
			p2 := must[*s3.UploadPartCopyOutput](t)(e.s3.UploadPartCopy(c, &s3.UploadPartCopyInput{Bucket: b, Key: key, UploadId: up.UploadId, PartNumber: aws.Int32(2),
				CopySource: aws.String(bkt + "/src/SSE-C"), CopySourceRange: aws.String("bytes=10-70009"),
				CopySourceSSECustomerAlgorithm: keyA.alg(), CopySourceSSECustomerKey: keyA.key(), CopySourceSSECustomerKeyMD5: keyA.md5()}))
			kmsBucketKey.check(t, "UploadPartCopy", p2.ServerSideEncryption, p2.SSEKMSKeyId, p2.BucketKeyEnabled)
			if p2.SSECustomerAlgorithm != nil {
				t.Fatal("UploadPartCopy into an SSE-KMS upload echoes a customer key")
			}
			wantOpaqueETag(t, "UploadPartCopy", aws.ToString(p2.CopyPartResult.ETag), body[10:70010])
			must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: b, Key: key, UploadId: up.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p1.ETag}, {PartNumber: aws.Int32(2), ETag: p2.CopyPartResult.ETag}}}}))
			want["mp-kms"] = stored{body: append(bytes.Clone(part1), body[10:70010]...), kms: &kmsBucketKey}
		})
	})

	// A customer key overrides a bucket default of SSE-KMS; a copy from SSE-C without
	// destination headers takes that default.
	t.Run("bucket default SSE-KMS", func(t *testing.T) {
		must[*s3.PutBucketEncryptionOutput](t)(e.s3.PutBucketEncryption(c, &s3.PutBucketEncryptionInput{Bucket: b,
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(arn)},
			}}}}))
		out := putSSEC(t, e, bkt, "default-kms/c", body, keyB)
		wantSSECEcho(t, "PutObject", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5, keyB)
		want["default-kms/c"] = stored{body: body, ck: keyB}
		cp := must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: b, Key: aws.String("default-kms/copied"), CopySource: aws.String(bkt + "/src/SSE-C"),
			CopySourceSSECustomerAlgorithm: keyA.alg(), CopySourceSSECustomerKey: keyA.key(), CopySourceSSECustomerKeyMD5: keyA.md5()}))
		kmsNamed.check(t, "CopyObject to the default", cp.ServerSideEncryption, cp.SSEKMSKeyId, cp.BucketKeyEnabled)
		want["default-kms/copied"] = stored{body: body, kms: &kmsNamed}
	})

	t.Run("read back", func(t *testing.T) {
		for key, s := range want {
			t.Run(key, func(t *testing.T) {
				get := &s3.GetObjectInput{Bucket: b, Key: aws.String(key)}
				head := &s3.HeadObjectInput{Bucket: b, Key: aws.String(key)}
				if k := s.ck; k.raw != nil {
					get.SSECustomerAlgorithm, get.SSECustomerKey, get.SSECustomerKeyMD5 = k.alg(), k.key(), k.md5()
					head.SSECustomerAlgorithm, head.SSECustomerKey, head.SSECustomerKeyMD5 = k.alg(), k.key(), k.md5()
				}
				got, out := getAll(t, e, get)
				if !bytes.Equal(got, s.body) {
					t.Fatalf("GET returned %d bytes that differ from the %d written", len(got), len(s.body))
				}
				h := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, head))
				if s.kms != nil {
					s.kms.check(t, "GET", out.ServerSideEncryption, out.SSEKMSKeyId, out.BucketKeyEnabled)
					s.kms.check(t, "HEAD", h.ServerSideEncryption, h.SSEKMSKeyId, h.BucketKeyEnabled)
					// A customer key is not applicable to a KMS object.
					_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: aws.String(key), SSECustomerAlgorithm: keyA.alg(), SSECustomerKey: keyA.key(), SSECustomerKeyMD5: keyA.md5()})
					wantAPIError(t, err, "InvalidRequest", 400)
					return
				}
				wantSSECEcho(t, "GET", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5, s.ck)
				wantSSECEcho(t, "HEAD", h.ServerSideEncryption, h.SSECustomerAlgorithm, h.SSECustomerKeyMD5, s.ck)
				if out.SSEKMSKeyId != nil || h.SSEKMSKeyId != nil {
					t.Fatalf("an SSE-C object reports KMS key %q", aws.ToString(out.SSEKMSKeyId))
				}
				_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: aws.String(key)})
				wantAPIError(t, err, "InvalidRequest", 400)
			})
		}
	})
}

// wantOpaqueETag fails unless etag is 32 hex digits that are not the MD5 of plain, as for
// SSE-KMS, DSSE-KMS and SSE-C objects and parts.
func wantOpaqueETag(t *testing.T, what, etag string, plain []byte) {
	t.Helper()
	sum := md5.Sum(plain)
	if !hexETag.MatchString(etag) || strings.Trim(etag, `"`) == hex.EncodeToString(sum[:]) {
		t.Fatalf("%s ETag %s: want 32 hex digits that are not the MD5 of the plaintext", what, etag)
	}
}
