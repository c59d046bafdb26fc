package integration

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// sseBody is recognisable plaintext: a marker no ciphertext, key name or record contains.
func sseBody(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "COFFER-PLAINTEXT-%07d|", i)
	}
	return b.Bytes()[:n]
}

const sseMarker = "COFFER-PLAINTEXT-"

// getAll reads an object (or a range or part of it) and returns its body and response.
func getAll(t *testing.T, e *env, in *s3.GetObjectInput) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := e.s3.GetObject(ctx(t), in)
	if err != nil {
		t.Fatalf("GetObject %s: %v", aws.ToString(in.Key), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject %s body: %v", aws.ToString(in.Key), err)
	}
	return b, out
}

// putMultipart uploads parts as one multipart object and returns the completion's output.
func putMultipart(t *testing.T, e *env, bucket, key string, parts ...[]byte) *s3.CompleteMultipartUploadOutput {
	t.Helper()
	c := ctx(t)
	up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}))
	if up.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Fatalf("CreateMultipartUpload reports encryption %q", up.ServerSideEncryption)
	}
	var done []types.CompletedPart
	for i, p := range parts {
		n := aws.Int32(int32(i + 1))
		out := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId, PartNumber: n, Body: bytes.NewReader(p)}))
		if out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("UploadPart reports encryption %q", out.ServerSideEncryption)
		}
		done = append(done, types.CompletedPart{PartNumber: n, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	}
	return must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}))
}

// TestSSES3EveryPath writes through every write path with SSE-S3 (by default and by header)
// and reads back through GET (whole, ranges, parts), HEAD, GetObjectAttributes and listings.
func TestSSES3EveryPath(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bkt = "ssepaths"
	newBucket(t, e, bkt)
	small, large := sseBody(1000), sseBody(300<<10+7)
	part1, part2 := sseBody(5<<20+3), sseBody(100<<10)
	whole := append(append([]byte{}, part1...), part2...)
	want := map[string][]byte{}

	t.Run("PutObject", func(t *testing.T) {
		for _, tc := range []struct {
			name, key string
			body      []byte
			sse       types.ServerSideEncryption
		}{
			{"inline by default", "inline", small, ""},
			{"blob by default", "large", large, ""},
			{"inline with AES256", "inline-aes", small, types.ServerSideEncryptionAes256},
			{"blob with AES256", "large-aes", large, types.ServerSideEncryptionAes256},
			{"empty", "empty", nil, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String(tc.key), Body: bytes.NewReader(tc.body), ServerSideEncryption: tc.sse}))
				if out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
					t.Fatalf("PutObject reports encryption %q", out.ServerSideEncryption)
				}
				sum := md5.Sum(tc.body)
				if got := aws.ToString(out.ETag); got != `"`+hex.EncodeToString(sum[:])+`"` {
					t.Fatalf("ETag %s, want the MD5 of the plaintext", got)
				}
				want[tc.key] = tc.body
			})
		}
	})
	t.Run("POST Object", func(t *testing.T) {
		for _, v := range []string{"", "AES256"} {
			key := "posted" + v
			conds := []any{map[string]string{"bucket": bkt}, []any{"eq", "$key", key}}
			fields := []formField{{"key", key}}
			if v != "" {
				conds = append(conds, map[string]string{"x-amz-server-side-encryption": v})
				fields = append(fields, formField{"x-amz-server-side-encryption", v})
			}
			auth := signPostV4(t, testAccessKey, testSecretKey, "us-east-1", time.Now(), postPolicy{expires: time.Now().Add(time.Hour), conditions: conds})
			body, ct := buildForm(t, append(append(auth, fields...), formField{"file", string(large)}), "f")
			resp := e.postForm(t, e.srv.URL, bkt, body, ct)
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("x-amz-server-side-encryption") != "AES256" {
				t.Fatalf("POST %q: status %d, encryption %q", v, resp.StatusCode, resp.Header.Get("x-amz-server-side-encryption"))
			}
			want[key] = large
		}
	})
	t.Run("multipart", func(t *testing.T) {
		out := putMultipart(t, e, bkt, "mp", part1, part2)
		if out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("CompleteMultipartUpload reports encryption %q", out.ServerSideEncryption)
		}
		want["mp"] = whole
	})
	t.Run("CopyObject", func(t *testing.T) {
		for _, tc := range []struct{ name, src, dst string }{
			{"blob", "large", "copy-large"}, {"inline", "inline", "copy-inline"}, {"multipart source", "mp", "copy-mp"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String(tc.dst), CopySource: aws.String(bkt + "/" + tc.src)}))
				if out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
					t.Fatalf("CopyObject reports encryption %q", out.ServerSideEncryption)
				}
				want[tc.dst] = want[tc.src]
			})
		}
		t.Run("onto itself with AES256", func(t *testing.T) {
			out := must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("large"), CopySource: aws.String(bkt + "/large"), ServerSideEncryption: types.ServerSideEncryptionAes256}))
			if out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
				t.Fatalf("CopyObject reports encryption %q", out.ServerSideEncryption)
			}
		})
		t.Run("onto itself without a change", func(t *testing.T) {
			_, err := e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("large"), CopySource: aws.String(bkt + "/large")})
			wantAPIError(t, err, "InvalidRequest", 400)
		})
	})
	t.Run("UploadPartCopy", func(t *testing.T) {
		up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("partcopy")}))
		p1 := must[*s3.UploadPartCopyOutput](t)(e.s3.UploadPartCopy(c, &s3.UploadPartCopyInput{Bucket: aws.String(bkt), Key: aws.String("partcopy"), UploadId: up.UploadId, PartNumber: aws.Int32(1), CopySource: aws.String(bkt + "/mp"), CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", len(part1)))}))
		p2 := must[*s3.UploadPartCopyOutput](t)(e.s3.UploadPartCopy(c, &s3.UploadPartCopyInput{Bucket: aws.String(bkt), Key: aws.String("partcopy"), UploadId: up.UploadId, PartNumber: aws.Int32(2), CopySource: aws.String(bkt + "/inline")}))
		if p1.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("UploadPartCopy reports encryption %q", p1.ServerSideEncryption)
		}
		must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("partcopy"), UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p1.CopyPartResult.ETag}, {PartNumber: aws.Int32(2), ETag: p2.CopyPartResult.ETag}}}}))
		want["partcopy"] = append(append([]byte{}, whole[:len(part1)+1]...), small...)
	})

	t.Run("read back", func(t *testing.T) {
		for key, body := range want {
			t.Run(key, func(t *testing.T) {
				got, out := getAll(t, e, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)})
				if !bytes.Equal(got, body) {
					t.Fatalf("GET returned %d bytes, want %d (equal: false)", len(got), len(body))
				}
				if out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
					t.Fatalf("GET reports encryption %q", out.ServerSideEncryption)
				}
				head := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String(key)}))
				if head.ServerSideEncryption != types.ServerSideEncryptionAes256 || aws.ToInt64(head.ContentLength) != int64(len(body)) {
					t.Fatalf("HEAD reports encryption %q, length %d", head.ServerSideEncryption, aws.ToInt64(head.ContentLength))
				}
				attrs := must[*s3.GetObjectAttributesOutput](t)(e.s3.GetObjectAttributes(c, &s3.GetObjectAttributesInput{Bucket: aws.String(bkt), Key: aws.String(key), ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}}))
				if aws.ToInt64(attrs.ObjectSize) != int64(len(body)) {
					t.Fatalf("GetObjectAttributes size %d, want %d", aws.ToInt64(attrs.ObjectSize), len(body))
				}
			})
		}
	})
	t.Run("ranges", func(t *testing.T) {
		for _, tc := range []struct {
			key        string
			start, end int
		}{
			{"large", 0, 0}, {"large", 65535, 65537}, {"large", len(large) - 5, len(large) - 1}, {"inline", 10, 20},
			{"mp", len(part1) - 10, len(part1) + 10}, {"mp", 0, len(whole) - 1}, {"mp", len(whole) - 1, len(whole) - 1},
		} {
			t.Run(fmt.Sprintf("%s %d-%d", tc.key, tc.start, tc.end), func(t *testing.T) {
				got, _ := getAll(t, e, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String(tc.key), Range: aws.String(fmt.Sprintf("bytes=%d-%d", tc.start, tc.end))})
				if !bytes.Equal(got, want[tc.key][tc.start:tc.end+1]) {
					t.Fatalf("range returned %d bytes that differ from the plaintext", len(got))
				}
			})
		}
	})
	t.Run("partNumber", func(t *testing.T) {
		for n, p := range [][]byte{part1, part2} {
			got, out := getAll(t, e, &s3.GetObjectInput{Bucket: aws.String(bkt), Key: aws.String("mp"), PartNumber: aws.Int32(int32(n + 1))})
			if !bytes.Equal(got, p) || aws.ToInt32(out.PartsCount) != 2 {
				t.Fatalf("part %d: %d bytes, parts count %d", n+1, len(got), aws.ToInt32(out.PartsCount))
			}
		}
	})
	t.Run("listing sizes are plaintext sizes", func(t *testing.T) {
		out := must[*s3.ListObjectsV2Output](t)(e.s3.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String(bkt)}))
		for _, o := range out.Contents {
			if aws.ToInt64(o.Size) != int64(len(want[aws.ToString(o.Key)])) {
				t.Errorf("%s listed with %d bytes, want %d", aws.ToString(o.Key), aws.ToInt64(o.Size), len(want[aws.ToString(o.Key)]))
			}
		}
	})
}

// TestBucketEncryption covers Get/Put/DeleteBucketEncryption: SSE-S3 is the default of every
// bucket, an explicit AES256 rule is stored with its options, KMS rules are not supported yet.
func TestBucketEncryption(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "bkenc")
	b := aws.String("bkenc")
	get := func(t *testing.T) types.ServerSideEncryptionRule {
		t.Helper()
		out := must[*s3.GetBucketEncryptionOutput](t)(e.s3.GetBucketEncryption(c, &s3.GetBucketEncryptionInput{Bucket: b}))
		if len(out.ServerSideEncryptionConfiguration.Rules) != 1 {
			t.Fatalf("%d rules", len(out.ServerSideEncryptionConfiguration.Rules))
		}
		return out.ServerSideEncryptionConfiguration.Rules[0]
	}
	rule := func(alg types.ServerSideEncryption, keyID string, bucketKey bool, blocked ...types.EncryptionType) *types.ServerSideEncryptionConfiguration {
		r := types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: alg}, BucketKeyEnabled: aws.Bool(bucketKey)}
		if keyID != "" {
			r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID = aws.String(keyID)
		}
		if blocked != nil {
			r.BlockedEncryptionTypes = &types.BlockedEncryptionTypes{EncryptionType: blocked}
		}
		return &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{r}}
	}
	t.Run("default is SSE-S3", func(t *testing.T) {
		r := get(t)
		if r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 || aws.ToBool(r.BucketKeyEnabled) {
			t.Fatalf("default rule %+v", r.ApplyServerSideEncryptionByDefault)
		}
	})
	t.Run("AES256 stored with its options", func(t *testing.T) {
		must[*s3.PutBucketEncryptionOutput](t)(e.s3.PutBucketEncryption(c, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: rule(types.ServerSideEncryptionAes256, "", true, types.EncryptionTypeSseC)}))
		r := get(t)
		if r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 || !aws.ToBool(r.BucketKeyEnabled) ||
			r.BlockedEncryptionTypes == nil || len(r.BlockedEncryptionTypes.EncryptionType) != 1 || r.BlockedEncryptionTypes.EncryptionType[0] != types.EncryptionTypeSseC {
			t.Fatalf("rule %+v, bucket key %v, blocked %+v", r.ApplyServerSideEncryptionByDefault, aws.ToBool(r.BucketKeyEnabled), r.BlockedEncryptionTypes)
		}
		out := must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: stringsReader("x")}))
		if out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("PutObject under the rule reports %q", out.ServerSideEncryption)
		}
	})
	for _, tc := range []struct {
		name   string
		cfg    *types.ServerSideEncryptionConfiguration
		code   string
		status int
	}{
		{"KMS key with AES256", rule(types.ServerSideEncryptionAes256, "alias/x", false), "InvalidArgument", 400},
		{"unknown algorithm", rule("AES192", "", false), "InvalidArgument", 400},
		{"rule without a default", &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{BucketKeyEnabled: aws.Bool(true)}}}, "MalformedXML", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s3.PutBucketEncryption(c, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: tc.cfg})
			wantAPIError(t, err, tc.code, tc.status)
			if !aws.ToBool(get(t).BucketKeyEnabled) {
				t.Fatal("a refused configuration changed the stored one")
			}
		})
	}
	t.Run("delete resets to SSE-S3 and keeps SSE-C blocked", func(t *testing.T) {
		must[*s3.DeleteBucketEncryptionOutput](t)(e.s3.DeleteBucketEncryption(c, &s3.DeleteBucketEncryptionInput{Bucket: b}))
		r := get(t)
		if r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 || aws.ToBool(r.BucketKeyEnabled) ||
			r.BlockedEncryptionTypes == nil || !slices.Equal(r.BlockedEncryptionTypes.EncryptionType, []types.EncryptionType{types.EncryptionTypeSseC}) {
			t.Fatalf("rule after delete %+v", r)
		}
	})
	t.Run("missing bucket", func(t *testing.T) {
		_, err := e.s3.GetBucketEncryption(c, &s3.GetBucketEncryptionInput{Bucket: aws.String("nobucket")})
		wantAPIError(t, err, "NoSuchBucket", 404)
	})
}

// stopEnv shuts a server down before the test edits its data directory.
func stopEnv(t *testing.T, e *env) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(c); err != nil {
		t.Fatal(err)
	}
}
