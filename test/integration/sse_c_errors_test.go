package integration

import (
	"bytes"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer/coffer/internal/server"
)

// TestSSECErrors covers every wrong use of customer keys, each with S3's code and status.
func TestSSECErrors(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bkt = "ssecerrors"
	newBucket(t, e, bkt)
	unblockSSEC(t, e, bkt)
	keyA, keyB := newCustomerKey(1), newCustomerKey(2)
	putSSEC(t, e, bkt, "c", sseBody(200<<10), keyA)
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("s"), Body: stringsReader("plain")}))
	b := aws.String(bkt)

	t.Run("PutObject", func(t *testing.T) {
		for _, tc := range []struct {
			name          string
			alg, key, sum *string
			sse           types.ServerSideEncryption
			code          string
			status        int
		}{
			{"no algorithm", nil, keyA.key(), keyA.md5(), "", "InvalidArgument", 400},
			{"algorithm not AES256", aws.String("AES128"), keyA.key(), keyA.md5(), "", "InvalidEncryptionAlgorithmError", 400},
			{"no key", keyA.alg(), nil, keyA.md5(), "", "InvalidArgument", 400},
			{"no key MD5", keyA.alg(), keyA.key(), nil, "", "InvalidArgument", 400},
			{"key not base64", keyA.alg(), aws.String("not base64!"), keyA.md5(), "", "InvalidArgument", 400},
			{"key of 16 bytes", keyA.alg(), aws.String("AAAAAAAAAAAAAAAAAAAAAA=="), aws.String("FPjQ4Kw4j8rRzlpPGc6mxA=="), "", "InvalidArgument", 400},
			{"MD5 of another key", keyA.alg(), keyA.key(), keyB.md5(), "", "InvalidArgument", 400},
			{"with SSE-S3", keyA.alg(), keyA.key(), keyA.md5(), types.ServerSideEncryptionAes256, "InvalidArgument", 400},
			{"with SSE-KMS", keyA.alg(), keyA.key(), keyA.md5(), types.ServerSideEncryptionAwsKms, "InvalidArgument", 400},
			{"with DSSE-KMS", keyA.alg(), keyA.key(), keyA.md5(), types.ServerSideEncryptionAwsKmsDsse, "InvalidArgument", 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("bad"), Body: stringsReader("x"),
					SSECustomerAlgorithm: tc.alg, SSECustomerKey: tc.key, SSECustomerKeyMD5: tc.sum, ServerSideEncryption: tc.sse})
				wantAPIError(t, err, tc.code, tc.status)
				wantNoObject(t, e, "bad")
			})
		}
		t.Run("over plain HTTP", func(t *testing.T) {
			hc := e.client(testAccessKey, testSecretKey, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.srv.HTTPURL) })
			_, err := hc.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("bad"), Body: stringsReader("x"), SSECustomerAlgorithm: keyA.alg(), SSECustomerKey: keyA.key(), SSECustomerKeyMD5: keyA.md5()})
			wantAPIError(t, err, "InvalidRequest", 400)
			_, err = hc.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: aws.String("c"), SSECustomerAlgorithm: keyA.alg(), SSECustomerKey: keyA.key(), SSECustomerKeyMD5: keyA.md5()})
			wantAPIError(t, err, "InvalidRequest", 400)
		})
	})

	t.Run("reads", func(t *testing.T) {
		type keys struct{ alg, key, sum *string }
		none, a, other := keys{}, keys{keyA.alg(), keyA.key(), keyA.md5()}, keys{keyB.alg(), keyB.key(), keyB.md5()}
		for _, tc := range []struct {
			name, obj string
			k         keys
			code      string
			status    int
		}{
			{"SSE-C object without the key", "c", none, "InvalidRequest", 400},
			{"SSE-C object with another key", "c", other, "AccessDenied", 403},
			{"SSE-C object with a malformed key", "c", keys{keyA.alg(), keyA.key(), keyB.md5()}, "InvalidArgument", 400},
			{"SSE-S3 object with a key", "s", a, "InvalidRequest", 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: aws.String(tc.obj), SSECustomerAlgorithm: tc.k.alg, SSECustomerKey: tc.k.key, SSECustomerKeyMD5: tc.k.sum})
				wantAPIError(t, err, tc.code, tc.status)
				_, err = e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: aws.String(tc.obj), Range: aws.String("bytes=1-2"), SSECustomerAlgorithm: tc.k.alg, SSECustomerKey: tc.k.key, SSECustomerKeyMD5: tc.k.sum})
				wantAPIError(t, err, tc.code, tc.status)
				_, err = e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: aws.String(tc.obj), PartNumber: aws.Int32(1), SSECustomerAlgorithm: tc.k.alg, SSECustomerKey: tc.k.key, SSECustomerKeyMD5: tc.k.sum})
				wantAPIError(t, err, tc.code, tc.status)
				_, err = e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: b, Key: aws.String(tc.obj), SSECustomerAlgorithm: tc.k.alg, SSECustomerKey: tc.k.key, SSECustomerKeyMD5: tc.k.sum})
				wantAPIError(t, err, "", tc.status) // a HEAD error has no body
				_, err = e.s3.GetObjectAttributes(c, &s3.GetObjectAttributesInput{Bucket: b, Key: aws.String(tc.obj), ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag},
					SSECustomerAlgorithm: tc.k.alg, SSECustomerKey: tc.k.key, SSECustomerKeyMD5: tc.k.sum})
				wantAPIError(t, err, tc.code, tc.status)
				_, err = e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy"), CopySource: aws.String(bkt + "/" + tc.obj),
					CopySourceSSECustomerAlgorithm: tc.k.alg, CopySourceSSECustomerKey: tc.k.key, CopySourceSSECustomerKeyMD5: tc.k.sum})
				wantAPIError(t, err, tc.code, tc.status)
				wantNoObject(t, e, "copy")
			})
		}
	})

	t.Run("multipart", func(t *testing.T) {
		ssec := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("mp"),
			SSECustomerAlgorithm: keyA.alg(), SSECustomerKey: keyA.key(), SSECustomerKeyMD5: keyA.md5()}))
		plain := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("mp2")}))
		part := func(up *s3.CreateMultipartUploadOutput, k *customerKey) error {
			in := &s3.UploadPartInput{Bucket: b, Key: up.Key, UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part"))}
			if k != nil {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = k.alg(), k.key(), k.md5()
			}
			_, err := e.s3.UploadPart(c, in)
			return err
		}
		partCopy := func(up *s3.CreateMultipartUploadOutput, k *customerKey) error {
			in := &s3.UploadPartCopyInput{Bucket: b, Key: up.Key, UploadId: up.UploadId, PartNumber: aws.Int32(1), CopySource: aws.String(bkt + "/s")}
			if k != nil {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = k.alg(), k.key(), k.md5()
			}
			_, err := e.s3.UploadPartCopy(c, in)
			return err
		}
		for _, tc := range []struct {
			name   string
			err    error
			code   string
			status int
		}{
			{"part without the key", part(ssec, nil), "InvalidRequest", 400},
			{"part with another key", part(ssec, &keyB), "InvalidArgument", 400},
			{"part copy without the key", partCopy(ssec, nil), "InvalidRequest", 400},
			{"part copy with another key", partCopy(ssec, &keyB), "InvalidArgument", 400},
			{"key on a part of an SSE-S3 upload", part(plain, &keyA), "InvalidRequest", 400},
		} {
			t.Run(tc.name, func(t *testing.T) { wantAPIError(t, tc.err, tc.code, tc.status) })
		}
		if err := part(ssec, &keyA); err != nil {
			t.Fatal(err)
		}
		parts := must[*s3.ListPartsOutput](t)(e.s3.ListParts(c, &s3.ListPartsInput{Bucket: b, Key: aws.String("mp"), UploadId: ssec.UploadId}))
		done := &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: parts.Parts[0].ETag}}}
		t.Run("complete with another key", func(t *testing.T) {
			_, err := e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("mp"), UploadId: ssec.UploadId, MultipartUpload: done,
				SSECustomerAlgorithm: keyB.alg(), SSECustomerKey: keyB.key(), SSECustomerKeyMD5: keyB.md5()})
			wantAPIError(t, err, "InvalidArgument", 400)
		})
		must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("mp"), UploadId: ssec.UploadId, MultipartUpload: done,
			SSECustomerAlgorithm: keyA.alg(), SSECustomerKey: keyA.key(), SSECustomerKeyMD5: keyA.md5()}))
	})
}

// TestSSECBlocked: new buckets block SSE-C writes (403) until PutBucketEncryption sets
// BlockedEncryptionTypes NONE; blocking again keeps existing SSE-C objects readable; the
// server option lets new buckets accept SSE-C.
func TestSSECBlocked(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bkt = "ssecblocked"
	newBucket(t, e, bkt)
	b := aws.String(bkt)
	k := newCustomerKey(7)
	blocked := func(t *testing.T) []types.EncryptionType {
		t.Helper()
		out := must[*s3.GetBucketEncryptionOutput](t)(e.s3.GetBucketEncryption(c, &s3.GetBucketEncryptionInput{Bucket: b}))
		r := out.ServerSideEncryptionConfiguration.Rules[0]
		if r.BlockedEncryptionTypes == nil {
			t.Fatal("GetBucketEncryption reports no BlockedEncryptionTypes")
		}
		return r.BlockedEncryptionTypes.EncryptionType
	}
	writes := []struct {
		name string
		do   func() error
	}{
		{"PutObject", func() error {
			_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("w"), Body: stringsReader("x"), SSECustomerAlgorithm: k.alg(), SSECustomerKey: k.key(), SSECustomerKeyMD5: k.md5()})
			return err
		}},
		{"PutObject with a malformed key", func() error {
			_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("w"), Body: stringsReader("x"), SSECustomerAlgorithm: k.alg(), SSECustomerKey: k.key()})
			return err
		}},
		{"CreateMultipartUpload", func() error {
			_, err := e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("w"), SSECustomerAlgorithm: k.alg(), SSECustomerKey: k.key(), SSECustomerKeyMD5: k.md5()})
			return err
		}},
		{"CopyObject", func() error {
			_, err := e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: b, Key: aws.String("w"), CopySource: aws.String(bkt + "/plain"), SSECustomerAlgorithm: k.alg(), SSECustomerKey: k.key(), SSECustomerKeyMD5: k.md5()})
			return err
		}},
		{"POST Object", func() error {
			fields := []formField{{"key", "w"}, {"x-amz-server-side-encryption-customer-algorithm", "AES256"},
				{"x-amz-server-side-encryption-customer-key", *k.key()}, {"x-amz-server-side-encryption-customer-key-MD5", *k.md5()}}
			conds := []any{map[string]string{"bucket": bkt}, []any{"starts-with", "$key", ""}, []any{"starts-with", "$x-amz-server-side-encryption-customer-algorithm", ""},
				[]any{"starts-with", "$x-amz-server-side-encryption-customer-key", ""}, []any{"starts-with", "$x-amz-server-side-encryption-customer-key-MD5", ""}}
			auth := signPostV4(t, testAccessKey, testSecretKey, "us-east-1", time.Now(), postPolicy{expires: time.Now().Add(time.Hour), conditions: conds})
			body, ct := buildForm(t, append(append(auth, fields...), formField{"file", "x"}), "f")
			if resp := e.postForm(t, e.srv.URL, bkt, body, ct); resp.StatusCode != http.StatusForbidden {
				return &postStatus{resp.StatusCode}
			}
			return nil
		}},
	}
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("plain"), Body: stringsReader("plain")}))

	t.Run("a new bucket blocks SSE-C", func(t *testing.T) {
		if got := blocked(t); !slices.Equal(got, []types.EncryptionType{types.EncryptionTypeSseC}) {
			t.Fatalf("new bucket blocks %v", got)
		}
		for _, w := range writes {
			t.Run(w.name, func(t *testing.T) {
				if w.name == "POST Object" {
					if err := w.do(); err != nil {
						t.Fatal(err)
					}
					return
				}
				wantAPIError(t, w.do(), "AccessDenied", 403)
			})
		}
		wantNoObject(t, e, "w")
	})
	t.Run("unblocked", func(t *testing.T) {
		unblockSSEC(t, e, bkt)
		if got := blocked(t); !slices.Equal(got, []types.EncryptionType{types.EncryptionTypeNone}) {
			t.Fatalf("after unblocking: %v", got)
		}
		putSSEC(t, e, bkt, "old", []byte("written while allowed"), k)
		// A configuration without BlockedEncryptionTypes keeps the setting in effect.
		must[*s3.PutBucketEncryptionOutput](t)(e.s3.PutBucketEncryption(c, &s3.PutBucketEncryptionInput{Bucket: b,
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}}}}}))
		if got := blocked(t); !slices.Equal(got, []types.EncryptionType{types.EncryptionTypeNone}) {
			t.Fatalf("after a rule without blocked types: %v", got)
		}
	})
	t.Run("blocked again, existing objects stay readable", func(t *testing.T) {
		setBlocked(t, e, bkt, types.EncryptionTypeSseC)
		wantAPIError(t, writes[0].do(), "AccessDenied", 403)
		got, _ := getAll(t, e, &s3.GetObjectInput{Bucket: b, Key: aws.String("old"), SSECustomerAlgorithm: k.alg(), SSECustomerKey: k.key(), SSECustomerKeyMD5: k.md5()})
		if string(got) != "written while allowed" {
			t.Fatalf("GET of an SSE-C object in a blocking bucket returned %q", got)
		}
		// Reading an SSE-C source to write SSE-S3 is no SSE-C write.
		must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: b, Key: aws.String("decrypted"), CopySource: aws.String(bkt + "/old"),
			CopySourceSSECustomerAlgorithm: k.alg(), CopySourceSSECustomerKey: k.key(), CopySourceSSECustomerKeyMD5: k.md5()}))
	})
	t.Run("server option allows SSE-C on new buckets", func(t *testing.T) {
		e2 := startServerWith(t, server.Config{Dir: t.TempDir(), AllowSSECOnNewBuckets: true})
		newBucket(t, e2, "allowed")
		putSSEC(t, e2, "allowed", "k", []byte("x"), k)
		out := must[*s3.GetBucketEncryptionOutput](t)(e2.s3.GetBucketEncryption(c, &s3.GetBucketEncryptionInput{Bucket: aws.String("allowed")}))
		if r := out.ServerSideEncryptionConfiguration.Rules[0]; r.BlockedEncryptionTypes == nil || !slices.Equal(r.BlockedEncryptionTypes.EncryptionType, []types.EncryptionType{types.EncryptionTypeNone}) {
			t.Fatalf("bucket made under the allow option reports %+v", r.BlockedEncryptionTypes)
		}
	})
}

// postStatus is a form upload answered with another status than expected.
type postStatus struct{ status int }

func (p *postStatus) Error() string { return "POST answered " + http.StatusText(p.status) }
