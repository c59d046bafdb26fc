package integration

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// customerKey is an SSE-C key as a client holds it.
type customerKey struct {
	raw []byte
}

func newCustomerKey(seed uint64) customerKey { return customerKey{raw: randomBytes(seed, 32)} }

func (k customerKey) alg() *string { return aws.String("AES256") }
func (k customerKey) key() *string { return aws.String(base64.StdEncoding.EncodeToString(k.raw)) }
func (k customerKey) md5() *string {
	sum := md5.Sum(k.raw)
	return aws.String(base64.StdEncoding.EncodeToString(sum[:]))
}

// unblockSSEC allows SSE-C writes to a bucket, which new buckets block.
func unblockSSEC(t *testing.T, e *env, bucket string) {
	t.Helper()
	setBlocked(t, e, bucket, types.EncryptionTypeNone)
}

func setBlocked(t *testing.T, e *env, bucket string, blocked ...types.EncryptionType) {
	t.Helper()
	must[*s3.PutBucketEncryptionOutput](t)(e.s3.PutBucketEncryption(ctx(t), &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256},
			BlockedEncryptionTypes:             &types.BlockedEncryptionTypes{EncryptionType: blocked},
		}}}}))
}

// wantSSECEcho fails unless a response reports SSE-C with key k and no other encryption.
func wantSSECEcho(t *testing.T, what string, sse types.ServerSideEncryption, alg, sum *string, k customerKey) {
	t.Helper()
	if sse != "" || aws.ToString(alg) != "AES256" || aws.ToString(sum) != aws.ToString(k.md5()) {
		t.Fatalf("%s reports encryption %q, customer algorithm %q, key MD5 %q; want SSE-C with %q", what, sse, aws.ToString(alg), aws.ToString(sum), aws.ToString(k.md5()))
	}
}

var hexETag = regexp.MustCompile(`^"[0-9a-f]{32}"$`)

// putSSEC writes body as key under customer key k.
func putSSEC(t *testing.T, e *env, bucket, key string, body []byte, k customerKey) *s3.PutObjectOutput {
	t.Helper()
	return must[*s3.PutObjectOutput](t)(e.s3.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		SSECustomerAlgorithm: k.alg(), SSECustomerKey: k.key(), SSECustomerKeyMD5: k.md5()}))
}

// putMultipartSSEC uploads parts as one multipart object under customer key k.
func putMultipartSSEC(t *testing.T, e *env, bucket, key string, k customerKey, parts ...[]byte) *s3.CompleteMultipartUploadOutput {
	t.Helper()
	c := ctx(t)
	up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		SSECustomerAlgorithm: k.alg(), SSECustomerKey: k.key(), SSECustomerKeyMD5: k.md5()}))
	wantSSECEcho(t, "CreateMultipartUpload", up.ServerSideEncryption, up.SSECustomerAlgorithm, up.SSECustomerKeyMD5, k)
	var done []types.CompletedPart
	for i, p := range parts {
		n := aws.Int32(int32(i + 1))
		in := &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId, PartNumber: n, Body: bytes.NewReader(p),
			SSECustomerAlgorithm: k.alg(), SSECustomerKey: k.key(), SSECustomerKeyMD5: k.md5()}
		out := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, in))
		wantSSECEcho(t, "UploadPart", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5, k)
		sum := md5.Sum(p)
		if aws.ToString(out.ETag) == `"`+hex.EncodeToString(sum[:])+`"` {
			t.Fatal("UploadPart ETag is the MD5 of the part's plaintext")
		}
		// The same data under the same key keeps its ETag, so a retried part matches the
		// ETag the client already holds.
		in.Body = bytes.NewReader(p)
		if again := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, in)); aws.ToString(again.ETag) != aws.ToString(out.ETag) {
			t.Fatalf("re-uploaded part %d has ETag %s, first %s", i+1, aws.ToString(again.ETag), aws.ToString(out.ETag))
		}
		done = append(done, types.CompletedPart{PartNumber: n, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	}
	return must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}, SSECustomerAlgorithm: k.alg(), SSECustomerKey: k.key(), SSECustomerKeyMD5: k.md5()}))
}

// TestSSECEveryPath writes with customer keys through every write path and reads back through
// GET (whole, ranges, parts), HEAD and GetObjectAttributes, each with the object's key.
func TestSSECEveryPath(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bkt = "ssecpaths"
	newBucket(t, e, bkt)
	unblockSSEC(t, e, bkt)
	keyA, keyB := newCustomerKey(1), newCustomerKey(2)
	small, large := sseBody(1000), sseBody(300<<10+7)
	part1, part2 := sseBody(5<<20+3), sseBody(100<<10)
	whole := append(append([]byte{}, part1...), part2...)
	type stored struct {
		body []byte
		key  customerKey // nil raw: not SSE-C
	}
	want := map[string]stored{}

	t.Run("PutObject", func(t *testing.T) {
		for _, tc := range []struct {
			name, key string
			body      []byte
		}{{"inline", "inline", small}, {"blob", "large", large}, {"empty", "empty", nil}} {
			t.Run(tc.name, func(t *testing.T) {
				out := putSSEC(t, e, bkt, tc.key, tc.body, keyA)
				wantSSECEcho(t, "PutObject", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5, keyA)
				sum := md5.Sum(tc.body)
				if got := aws.ToString(out.ETag); got == `"`+hex.EncodeToString(sum[:])+`"` || !hexETag.MatchString(got) {
					t.Fatalf("ETag %s: want 32 hex digits that are not the MD5 of the plaintext", got)
				}
				want[tc.key] = stored{tc.body, keyA}
			})
		}
	})
	t.Run("POST Object", func(t *testing.T) {
		const key = "posted"
		conds := []any{map[string]string{"bucket": bkt}, []any{"eq", "$key", key},
			map[string]string{"x-amz-server-side-encryption-customer-algorithm": "AES256"},
			map[string]string{"x-amz-server-side-encryption-customer-key": *keyB.key()},
			map[string]string{"x-amz-server-side-encryption-customer-key-md5": *keyB.md5()}}
		fields := []formField{{"key", key}, {"x-amz-server-side-encryption-customer-algorithm", "AES256"},
			{"x-amz-server-side-encryption-customer-key", *keyB.key()}, {"x-amz-server-side-encryption-customer-key-MD5", *keyB.md5()}}
		auth := signPostV4(t, testAccessKey, testSecretKey, "us-east-1", time.Now(), postPolicy{expires: time.Now().Add(time.Hour), conditions: conds})
		body, ct := buildForm(t, append(append(auth, fields...), formField{"file", string(large)}), "f")
		resp := e.postForm(t, e.srv.URL, bkt, body, ct)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("x-amz-server-side-encryption-customer-algorithm") != "AES256" ||
			h.Get("x-amz-server-side-encryption-customer-key-MD5") != *keyB.md5() || h.Get("x-amz-server-side-encryption") != "" {
			t.Fatalf("POST: status %d, headers %v", resp.StatusCode, h)
		}
		want[key] = stored{large, keyB}
	})
	t.Run("multipart", func(t *testing.T) {
		out := putMultipartSSEC(t, e, bkt, "mp", keyA, part1, part2)
		if out.ServerSideEncryption != "" || !regexp.MustCompile(`^"[0-9a-f]{32}-2"$`).MatchString(aws.ToString(out.ETag)) {
			t.Fatalf("CompleteMultipartUpload reports encryption %q, ETag %s", out.ServerSideEncryption, aws.ToString(out.ETag))
		}
		want["mp"] = stored{whole, keyA}
	})
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("plain"), Body: bytes.NewReader(large)}))
	want["plain"] = stored{large, customerKey{}}
	t.Run("CopyObject", func(t *testing.T) {
		for _, tc := range []struct {
			name, src, dst string
			srcKey, dstKey customerKey
		}{
			{"SSE-C to SSE-C with a new key", "large", "copy-c-c", keyA, keyB},
			{"SSE-C multipart to SSE-C", "mp", "copy-mp", keyA, keyB},
			{"SSE-C to SSE-S3", "large", "copy-c-s3", keyA, customerKey{}},
			{"SSE-S3 to SSE-C", "plain", "copy-s3-c", customerKey{}, keyA},
			{"onto itself with a new key", "inline", "inline", keyA, keyB},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String(tc.dst), CopySource: aws.String(bkt + "/" + tc.src)}
				if tc.srcKey.raw != nil {
					in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = tc.srcKey.alg(), tc.srcKey.key(), tc.srcKey.md5()
				}
				if tc.dstKey.raw != nil {
					in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = tc.dstKey.alg(), tc.dstKey.key(), tc.dstKey.md5()
				}
				out := must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(c, in))
				if tc.dstKey.raw != nil {
					wantSSECEcho(t, "CopyObject", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5, tc.dstKey)
				} else if out.ServerSideEncryption != types.ServerSideEncryptionAes256 || out.SSECustomerAlgorithm != nil {
					t.Fatalf("CopyObject reports %q, customer algorithm %q", out.ServerSideEncryption, aws.ToString(out.SSECustomerAlgorithm))
				}
				want[tc.dst] = stored{want[tc.src].body, tc.dstKey}
			})
		}
	})
	t.Run("UploadPartCopy", func(t *testing.T) {
		up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("partcopy"),
			SSECustomerAlgorithm: keyB.alg(), SSECustomerKey: keyB.key(), SSECustomerKeyMD5: keyB.md5()}))
		p1 := must[*s3.UploadPartCopyOutput](t)(e.s3.UploadPartCopy(c, &s3.UploadPartCopyInput{Bucket: aws.String(bkt), Key: aws.String("partcopy"), UploadId: up.UploadId, PartNumber: aws.Int32(1),
			CopySource: aws.String(bkt + "/mp"), CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", len(part1))),
			CopySourceSSECustomerAlgorithm: keyA.alg(), CopySourceSSECustomerKey: keyA.key(), CopySourceSSECustomerKeyMD5: keyA.md5(),
			SSECustomerAlgorithm: keyB.alg(), SSECustomerKey: keyB.key(), SSECustomerKeyMD5: keyB.md5()}))
		wantSSECEcho(t, "UploadPartCopy", p1.ServerSideEncryption, p1.SSECustomerAlgorithm, p1.SSECustomerKeyMD5, keyB)
		p2 := must[*s3.UploadPartCopyOutput](t)(e.s3.UploadPartCopy(c, &s3.UploadPartCopyInput{Bucket: aws.String(bkt), Key: aws.String("partcopy"), UploadId: up.UploadId, PartNumber: aws.Int32(2),
			CopySource: aws.String(bkt + "/plain"), SSECustomerAlgorithm: keyB.alg(), SSECustomerKey: keyB.key(), SSECustomerKeyMD5: keyB.md5()}))
		// Completion without the key: S3 asks for it only with checksums or a bucket policy.
		must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("partcopy"), UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p1.CopyPartResult.ETag}, {PartNumber: aws.Int32(2), ETag: p2.CopyPartResult.ETag}}}}))
		want["partcopy"] = stored{append(append([]byte{}, whole[:len(part1)+1]...), large...), keyB}
	})

	t.Run("read back", func(t *testing.T) {
		for key, s := range want {
			t.Run(key, func(t *testing.T) {
				get := &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)}
				head := &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)}
				attrs := &s3.GetObjectAttributesInput{Bucket: aws.String(bkt), Key: aws.String(key), ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}}
				if k := s.key; k.raw != nil {
					get.SSECustomerAlgorithm, get.SSECustomerKey, get.SSECustomerKeyMD5 = k.alg(), k.key(), k.md5()
					head.SSECustomerAlgorithm, head.SSECustomerKey, head.SSECustomerKeyMD5 = k.alg(), k.key(), k.md5()
					attrs.SSECustomerAlgorithm, attrs.SSECustomerKey, attrs.SSECustomerKeyMD5 = k.alg(), k.key(), k.md5()
				}
				got, out := getAll(t, e, get)
				if !bytes.Equal(got, s.body) {
					t.Fatalf("GET returned %d bytes, want %d (equal: false)", len(got), len(s.body))
				}
				h := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, head))
				if aws.ToInt64(h.ContentLength) != int64(len(s.body)) || aws.ToString(h.ETag) != aws.ToString(out.ETag) {
					t.Fatalf("HEAD length %d, ETag %s; GET ETag %s", aws.ToInt64(h.ContentLength), aws.ToString(h.ETag), aws.ToString(out.ETag))
				}
				if s.key.raw != nil {
					wantSSECEcho(t, "GET", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5, s.key)
					wantSSECEcho(t, "HEAD", h.ServerSideEncryption, h.SSECustomerAlgorithm, h.SSECustomerKeyMD5, s.key)
				}
				a := must[*s3.GetObjectAttributesOutput](t)(e.s3.GetObjectAttributes(c, attrs))
				if aws.ToInt64(a.ObjectSize) != int64(len(s.body)) {
					t.Fatalf("GetObjectAttributes size %d, want %d", aws.ToInt64(a.ObjectSize), len(s.body))
				}
			})
		}
	})
	t.Run("ranges", func(t *testing.T) {
		for _, tc := range []struct {
			key        string
			start, end int
		}{
			{"large", 0, 0}, {"large", 65535, 65537}, {"copy-c-c", len(large) - 5, len(large) - 1},
			{"mp", len(part1) - 10, len(part1) + 10}, {"mp", len(whole) - 1, len(whole) - 1}, {"partcopy", len(part1) - 2, len(part1) + 2},
		} {
			t.Run(fmt.Sprintf("%s %d-%d", tc.key, tc.start, tc.end), func(t *testing.T) {
				k := want[tc.key].key
				got, out := getAll(t, e, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String(tc.key), Range: aws.String(fmt.Sprintf("bytes=%d-%d", tc.start, tc.end)),
					SSECustomerAlgorithm: k.alg(), SSECustomerKey: k.key(), SSECustomerKeyMD5: k.md5()})
				if !bytes.Equal(got, want[tc.key].body[tc.start:tc.end+1]) {
					t.Fatalf("range returned %d bytes that differ from the plaintext", len(got))
				}
				wantSSECEcho(t, "ranged GET", out.ServerSideEncryption, out.SSECustomerAlgorithm, out.SSECustomerKeyMD5, k)
			})
		}
	})
	t.Run("partNumber", func(t *testing.T) {
		for n, p := range [][]byte{part1, part2} {
			got, out := getAll(t, e, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("mp"), PartNumber: aws.Int32(int32(n + 1)),
				SSECustomerAlgorithm: keyA.alg(), SSECustomerKey: keyA.key(), SSECustomerKeyMD5: keyA.md5()})
			if !bytes.Equal(got, p) || aws.ToInt32(out.PartsCount) != 2 {
				t.Fatalf("part %d: %d bytes, parts count %d", n+1, len(got), aws.ToInt32(out.PartsCount))
			}
		}
	})
}
