package integration

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// newKMSKey creates a symmetric KMS key with an alias and returns its id and ARN.
func newKMSKey(t *testing.T, e *env, alias string) (id, arn string) {
	t.Helper()
	kc := e.kms()
	out := must[*kms.CreateKeyOutput](t)(kc.CreateKey(ctx(t), &kms.CreateKeyInput{}))
	if alias != "" {
		must[*kms.CreateAliasOutput](t)(kc.CreateAlias(ctx(t), &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: out.KeyMetadata.KeyId}))
	}
	return aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn)
}

// kmsMode is one way a client asks for KMS encryption.
type kmsMode struct {
	name      string
	alg       types.ServerSideEncryption
	keyID     string // as sent; "" for alias/aws/s3
	bucketKey bool
	wantARN   string // "" to accept any key ARN (the managed key)
}

func (m kmsMode) put(in *s3.PutObjectInput) {
	in.ServerSideEncryption = m.alg
	if m.keyID != "" {
		in.SSEKMSKeyId = aws.String(m.keyID)
	}
	if m.bucketKey {
		in.BucketKeyEnabled = aws.Bool(true)
	}
}

func (m kmsMode) check(t *testing.T, what string, alg types.ServerSideEncryption, arn *string, bk *bool) {
	t.Helper()
	if alg != m.alg {
		t.Errorf("%s: SSE %q, want %q", what, alg, m.alg)
	}
	if !strings.HasPrefix(aws.ToString(arn), "arn:aws:kms:us-east-1:") || m.wantARN != "" && aws.ToString(arn) != m.wantARN {
		t.Errorf("%s: key id %q, want the key ARN %q", what, aws.ToString(arn), m.wantARN)
	}
	if aws.ToBool(bk) != m.bucketKey {
		t.Errorf("%s: bucket key %v, want %v", what, aws.ToBool(bk), m.bucketKey)
	}
}

// TestSSEKMSEveryPath writes and reads objects with SSE-KMS (every way of naming the key, with
// and without a bucket key) and DSSE-KMS through PutObject, GetObject (whole, range,
// partNumber), HeadObject, multipart, CopyObject and UploadPartCopy.
func TestSSEKMSEveryPath(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bucket = "kmsbucket"
	newBucket(t, e, bucket)
	id, arn := newKMSKey(t, e, "alias/app")
	modes := []kmsMode{
		{name: "SSE-KMS managed key", alg: types.ServerSideEncryptionAwsKms},
		{name: "SSE-KMS key id", alg: types.ServerSideEncryptionAwsKms, keyID: id, wantARN: arn},
		{name: "SSE-KMS key ARN", alg: types.ServerSideEncryptionAwsKms, keyID: arn, wantARN: arn},
		{name: "SSE-KMS alias", alg: types.ServerSideEncryptionAwsKms, keyID: "alias/app", wantARN: arn},
		{name: "SSE-KMS alias ARN", alg: types.ServerSideEncryptionAwsKms, keyID: strings.Replace(arn, "key/"+id, "alias/app", 1), wantARN: arn},
		{name: "SSE-KMS bucket key", alg: types.ServerSideEncryptionAwsKms, keyID: id, bucketKey: true, wantARN: arn},
		{name: "DSSE-KMS", alg: types.ServerSideEncryptionAwsKmsDsse, keyID: id, wantARN: arn},
	}
	small, large := sseBody(1000), sseBody(300<<10)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			b := aws.String(bucket)
			for _, body := range [][]byte{small, large} {
				key := aws.String(m.name + "/" + strconv.Itoa(len(body)))
				in := &s3.PutObjectInput{Bucket: b, Key: key, Body: bytes.NewReader(body)}
				m.put(in)
				out := must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, in))
				m.check(t, "PutObject", out.ServerSideEncryption, out.SSEKMSKeyId, out.BucketKeyEnabled)
				sum := md5.Sum(body)
				if strings.Trim(aws.ToString(out.ETag), `"`) == hex.EncodeToString(sum[:]) {
					t.Errorf("ETag of an SSE-KMS object is the MD5 of its data")
				}
				if out.SSEKMSEncryptionContext == nil {
					t.Errorf("PutObject does not echo the encryption context")
				}
				got := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: key}))
				m.check(t, "GetObject", got.ServerSideEncryption, got.SSEKMSKeyId, got.BucketKeyEnabled)
				if !bytes.Equal(readBody(t, got), body) {
					t.Fatal("GetObject: wrong bytes")
				}
				if aws.ToString(got.ETag) != aws.ToString(out.ETag) {
					t.Errorf("GET ETag %s, PUT said %s", aws.ToString(got.ETag), aws.ToString(out.ETag))
				}
				rg := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: key, Range: aws.String("bytes=100-299")}))
				if !bytes.Equal(readBody(t, rg), body[100:300]) {
					t.Fatal("ranged GET: wrong bytes")
				}
				pn := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: key, PartNumber: aws.Int32(1)}))
				if !bytes.Equal(readBody(t, pn), body) {
					t.Fatal("partNumber GET: wrong bytes")
				}
				h := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: b, Key: key}))
				m.check(t, "HeadObject", h.ServerSideEncryption, h.SSEKMSKeyId, h.BucketKeyEnabled)
			}

			// Multipart: a 5 MiB part and a small one; one part copied from the small object.
			key := aws.String(m.name + "/multipart")
			cm := &s3.CreateMultipartUploadInput{Bucket: b, Key: key, ServerSideEncryption: m.alg}
			if m.keyID != "" {
				cm.SSEKMSKeyId = aws.String(m.keyID)
			}
			if m.bucketKey {
				cm.BucketKeyEnabled = aws.Bool(true)
			}
			up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, cm))
			m.check(t, "CreateMultipartUpload", up.ServerSideEncryption, up.SSEKMSKeyId, up.BucketKeyEnabled)
			part1 := sseBody(5 << 20)
			p1 := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: b, Key: key, UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(part1)}))
			m.check(t, "UploadPart", p1.ServerSideEncryption, p1.SSEKMSKeyId, p1.BucketKeyEnabled)
			p2 := must[*s3.UploadPartCopyOutput](t)(e.s3.UploadPartCopy(c, &s3.UploadPartCopyInput{Bucket: b, Key: key, UploadId: up.UploadId, PartNumber: aws.Int32(2),
				CopySource: aws.String(bucket + "/" + m.name + "/1000"), CopySourceRange: aws.String("bytes=10-509")}))
			m.check(t, "UploadPartCopy", p2.ServerSideEncryption, p2.SSEKMSKeyId, p2.BucketKeyEnabled)
			done := must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: b, Key: key, UploadId: up.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p1.ETag}, {PartNumber: aws.Int32(2), ETag: p2.CopyPartResult.ETag}}}}))
			m.check(t, "CompleteMultipartUpload", done.ServerSideEncryption, done.SSEKMSKeyId, done.BucketKeyEnabled)
			want := append(bytes.Clone(part1), small[10:510]...)
			got := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: key}))
			if !bytes.Equal(readBody(t, got), want) {
				t.Fatal("multipart GET: wrong bytes")
			}
			pn := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: key, PartNumber: aws.Int32(2)}))
			if !bytes.Equal(readBody(t, pn), small[10:510]) {
				t.Fatal("multipart partNumber=2 GET: wrong bytes")
			}
			rg := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: key, Range: aws.String("bytes=5242000-5242999")}))
			if !bytes.Equal(readBody(t, rg), want[5242000:5243000]) {
				t.Fatal("ranged GET across parts: wrong bytes")
			}

			// CopyObject re-encrypts to what the request asks: this mode, from an SSE-S3 source.
			must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String(m.name + "/plain"), Body: bytes.NewReader(small)}))
			cp := &s3.CopyObjectInput{Bucket: b, Key: aws.String(m.name + "/copy"), CopySource: aws.String(bucket + "/" + m.name + "/plain"), ServerSideEncryption: m.alg}
			if m.keyID != "" {
				cp.SSEKMSKeyId = aws.String(m.keyID)
			}
			if m.bucketKey {
				cp.BucketKeyEnabled = aws.Bool(true)
			}
			co := must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(c, cp))
			m.check(t, "CopyObject", co.ServerSideEncryption, co.SSEKMSKeyId, co.BucketKeyEnabled)
			got = must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: aws.String(m.name + "/copy")}))
			if !bytes.Equal(readBody(t, got), small) {
				t.Fatal("copy GET: wrong bytes")
			}
		})
	}
}

// TestSSEKMSErrors: each malformed or unusable SSE-KMS request fails as S3 answers it and
// stores nothing.
func TestSSEKMSErrors(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bucket = "kmserrors"
	newBucket(t, e, bucket)
	kc := e.kms()
	disabledID, _ := newKMSKey(t, e, "")
	must[*kms.DisableKeyOutput](t)(kc.DisableKey(c, &kms.DisableKeyInput{KeyId: aws.String(disabledID)}))
	signing := must[*kms.CreateKeyOutput](t)(kc.CreateKey(c, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify}))
	ctxOf := func(s string) *string { return aws.String(base64.StdEncoding.EncodeToString([]byte(s))) }
	cases := []struct {
		name   string
		mod    func(*s3.PutObjectInput)
		code   string
		status int
	}{
		{"key not found", func(in *s3.PutObjectInput) { in.SSEKMSKeyId = aws.String("0b5a4d8e-7f1e-4c3a-9d2b-1a2b3c4d5e6f") }, "KMS.NotFoundException", 400},
		{"alias not found", func(in *s3.PutObjectInput) { in.SSEKMSKeyId = aws.String("alias/none") }, "KMS.NotFoundException", 400},
		{"key in another region", func(in *s3.PutObjectInput) {
			in.SSEKMSKeyId = aws.String("arn:aws:kms:eu-west-1:111122223333:key/0b5a4d8e-7f1e-4c3a-9d2b-1a2b3c4d5e6f")
		}, "KMS.NotFoundException", 400},
		{"key disabled", func(in *s3.PutObjectInput) { in.SSEKMSKeyId = aws.String(disabledID) }, "KMS.DisabledException", 400},
		{"asymmetric key", func(in *s3.PutObjectInput) { in.SSEKMSKeyId = signing.KeyMetadata.KeyId }, "KMS.InvalidKeyUsageException", 400},
		{"context not base64", func(in *s3.PutObjectInput) { in.SSEKMSEncryptionContext = aws.String("%%%") }, "InvalidArgument", 400},
		{"context not a JSON object of strings", func(in *s3.PutObjectInput) { in.SSEKMSEncryptionContext = ctxOf(`{"a":1}`) }, "InvalidArgument", 400},
		{"context aws:s3:arn of another object", func(in *s3.PutObjectInput) {
			in.SSEKMSEncryptionContext = ctxOf(`{"aws:s3:arn":"arn:aws:s3:::kmserrors/other"}`)
		}, "InvalidArgument", 400},
		{"DSSE-KMS with a bucket key", func(in *s3.PutObjectInput) {
			in.ServerSideEncryption = types.ServerSideEncryptionAwsKmsDsse
			in.BucketKeyEnabled = aws.Bool(true)
		}, "InvalidArgument", 400},
		{"context without aws:kms", func(in *s3.PutObjectInput) {
			in.ServerSideEncryption = ""
			in.SSEKMSEncryptionContext = ctxOf(`{"a":"b"}`)
		}, "InvalidArgument", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: stringsReader("data"), ServerSideEncryption: types.ServerSideEncryptionAwsKms}
			tc.mod(in)
			_, err := e.s3.PutObject(c, in)
			wantAPIError(t, err, tc.code, tc.status)
			_, err = e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
			wantAPIError(t, err, "NotFound", 404)
		})
	}
	t.Run("context with its own aws:s3:arn", func(t *testing.T) {
		in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("ok"), Body: stringsReader("data"), ServerSideEncryption: types.ServerSideEncryptionAwsKms,
			SSEKMSEncryptionContext: ctxOf(`{"aws:s3:arn":"arn:aws:s3:::kmserrors/ok","app":"x"}`)}
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, in))
		got := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("ok")}))
		if string(readBody(t, got)) != "data" {
			t.Fatal("wrong bytes")
		}
	})
	t.Run("SSE header on GET", func(t *testing.T) {
		resp := e.raw(t, "GET", "/"+bucket+"/ok", "", map[string]string{"x-amz-server-side-encryption": "aws:kms"}, time.Now())
		wantRawError(t, resp, "InvalidArgument", 400)
	})
}

// TestSSEKMSSigV2Read: a SigV2 presigned GET of an SSE-KMS object is refused with S3's
// InvalidArgument before the object's key is opened (no KMS call); an SSE-S3 object still reads.
func TestSSEKMSSigV2Read(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bucket = "kmssigv2"
	newBucket(t, e, bucket)
	id, _ := newKMSKey(t, e, "")
	port := portOf(strings.TrimPrefix(e.srv.URL, "https://"))
	for _, tc := range []struct {
		name   string
		alg    types.ServerSideEncryption
		status int
		want   string // in the body
	}{
		{"SSE-KMS refused", types.ServerSideEncryptionAwsKms, 400, "Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4."},
		{"SSE-S3 read", types.ServerSideEncryptionAes256, 200, "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(string(tc.alg)), Body: stringsReader("body"), ServerSideEncryption: tc.alg}
			if tc.alg == types.ServerSideEncryptionAwsKms {
				in.SSEKMSKeyId = aws.String(id)
			}
			must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, in))
			before := e.srv.KMSCalls()
			resource := "/" + bucket + "/" + string(tc.alg)
			resp, err := e.http.Get("https://localhost:" + port + resource + presignV2GetQuery(resource))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
				t.Fatalf("SigV2 presigned GET: %d %s", resp.StatusCode, b)
			}
			if tc.status != 200 && !strings.Contains(string(b), "<Code>InvalidArgument</Code>") {
				t.Fatalf("SigV2 presigned GET: want InvalidArgument, got %s", b)
			}
			if after := e.srv.KMSCalls(); after != before {
				t.Fatalf("KMS calls moved: %+v before, %+v after", before, after)
			}
		})
	}
}

// TestSSEKMSSigV2CopySource: a SigV2 presigned CopyObject or UploadPartCopy whose source is an
// SSE-KMS object is refused with S3's InvalidArgument before the source's key is opened (no
// KMS call); an SSE-S3 source still copies.
func TestSSEKMSSigV2CopySource(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bucket = "kmssigv2copy"
	newBucket(t, e, bucket)
	id, _ := newKMSKey(t, e, "")
	port := portOf(strings.TrimPrefix(e.srv.URL, "https://"))
	up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp")}))
	for _, src := range []struct {
		alg    types.ServerSideEncryption
		status int
		want   string // in the body
	}{
		{types.ServerSideEncryptionAwsKms, 400, "Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4."},
		{types.ServerSideEncryptionAes256, 200, "ETag"},
	} {
		in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(string(src.alg)), Body: stringsReader("body"), ServerSideEncryption: src.alg}
		if src.alg == types.ServerSideEncryptionAwsKms {
			in.SSEKMSKeyId = aws.String(id)
		}
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, in))
		copySource := "x-amz-copy-source:/" + bucket + "/" + url.PathEscape(string(src.alg))
		for _, op := range []struct{ name, resource string }{
			{"CopyObject", "/" + bucket + "/copy"},
			{"UploadPartCopy", "/" + bucket + "/mp?partNumber=1&uploadId=" + aws.ToString(up.UploadId)},
		} {
			t.Run(op.name+" from "+string(src.alg), func(t *testing.T) {
				before := e.srv.KMSCalls()
				sep := "?"
				if strings.Contains(op.resource, "?") {
					sep = "&"
				}
				u := "https://localhost:" + port + op.resource + sep + presignV2Query("PUT", op.resource, copySource)
				req, err := http.NewRequestWithContext(c, "PUT", u, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("x-amz-copy-source", strings.TrimPrefix(copySource, "x-amz-copy-source:"))
				resp, err := e.http.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != src.status || !strings.Contains(string(b), src.want) {
					t.Fatalf("SigV2 %s: %d %s", op.name, resp.StatusCode, b)
				}
				if src.status != 200 && !strings.Contains(string(b), "<Code>InvalidArgument</Code>") {
					t.Fatalf("SigV2 %s: want InvalidArgument, got %s", op.name, b)
				}
				if after := e.srv.KMSCalls(); after != before {
					t.Fatalf("KMS calls moved: %+v before, %+v after", before, after)
				}
			})
		}
	}
}
