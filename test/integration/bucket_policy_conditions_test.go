package integration

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// denyUploadsWithoutKMS is AWS's "require SSE-KMS for every object written to a bucket"
// bucket policy.
func denyUploadsWithoutKMS(bucket string) string {
	return policyDoc(
		`{"Sid":"DenyIncorrectEncryptionHeader","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::`+bucket+`/*",
		  "Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}}`,
		`{"Sid":"DenyUnencryptedObjectUploads","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::`+bucket+`/*",
		  "Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}`)
}

// TestBucketPolicyRequiresSSEKMS: the deny-uploads-without-aws:kms policy refuses writes
// without the header or with AES256, also when the bucket's default would encrypt with KMS,
// for PutObject, CreateMultipartUpload and CopyObject alike, and lets aws:kms writes through,
// multipart parts included.
func TestBucketPolicyRequiresSSEKMS(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "kmsonly")
	newBucket(t, e, "src")
	b := aws.String("kmsonly")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("k"), Body: stringsReader("copy me")}))
	e.mustPutPolicy(t, "kmsonly", denyUploadsWithoutKMS("kmsonly"))
	root := "arn:aws:iam::" + e.srv.Identity.AccountID + ":root"

	put := func(sse types.ServerSideEncryption) error {
		_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: stringsReader("data"), ServerSideEncryption: sse})
		return err
	}
	mpu := func(sse types.ServerSideEncryption) error {
		_, err := e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("m"), ServerSideEncryption: sse})
		return err
	}
	cp := func(sse types.ServerSideEncryption) error {
		_, err := e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: b, Key: aws.String("c"), CopySource: aws.String("src/k"), ServerSideEncryption: sse})
		return err
	}
	tests := []struct {
		name  string
		call  func(types.ServerSideEncryption) error
		sse   types.ServerSideEncryption
		allow bool
	}{
		{"PutObject without header", put, "", false},
		{"PutObject AES256", put, types.ServerSideEncryptionAes256, false},
		{"PutObject aws:kms", put, types.ServerSideEncryptionAwsKms, true},
		{"CreateMultipartUpload without header", mpu, "", false},
		{"CreateMultipartUpload AES256", mpu, types.ServerSideEncryptionAes256, false},
		{"CreateMultipartUpload aws:kms", mpu, types.ServerSideEncryptionAwsKms, true},
		{"CopyObject without header", cp, "", false},
		{"CopyObject aws:kms", cp, types.ServerSideEncryptionAwsKms, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(tc.sse)
			if tc.allow {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantAPIError(t, err, "AccessDenied", 403)
		})
	}
	t.Run("message", func(t *testing.T) {
		wantMessage(t, put(""), `User: `+root+` is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::kmsonly/k" with an explicit deny in a resource-based policy`)
	})
	t.Run("bucket default does not count", func(t *testing.T) {
		must[*s3.PutBucketEncryptionOutput](t)(e.s3.PutBucketEncryption(c, &s3.PutBucketEncryptionInput{Bucket: b,
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{
				{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms}}}}}))
		wantAPIError(t, put(""), "AccessDenied", 403)
	})
	t.Run("multipart aws:kms", func(t *testing.T) {
		up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("mp"), ServerSideEncryption: types.ServerSideEncryptionAwsKms}))
		part := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: b, Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: stringsReader("part")}))
		must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("mp"), UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}))
		head := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: b, Key: aws.String("mp")}))
		if head.ServerSideEncryption != types.ServerSideEncryptionAwsKms {
			t.Fatalf("multipart object encrypted with %q", head.ServerSideEncryption)
		}
	})
	t.Run("reads unaffected", func(t *testing.T) {
		must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")}))
	})
}

// TestBucketPolicyRequiresKey: AWS's "require a specific KMS key" policy refuses SSE-KMS writes
// naming another key and lets writes naming the key through.
func TestBucketPolicyRequiresKey(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "onekey")
	_, wanted := newKMSKey(t, e, "")
	_, other := newKMSKey(t, e, "")
	e.mustPutPolicy(t, "onekey", policyDoc(
		`{"Sid":"RequireKey","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::onekey/*",
		  "Condition":{"ArnNotEqualsIfExists":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"`+wanted+`"}}}`))
	put := func(key string) error {
		_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("onekey"), Key: aws.String("k"), Body: stringsReader("data"),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(key)})
		return err
	}
	t.Run("the required key", func(t *testing.T) {
		if err := put(wanted); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("another key", func(t *testing.T) { wantAPIError(t, put(other), "AccessDenied", 403) })
	// S3 matches the key it encrypts with, a bucket default's too, though no header names it.
	setDefault := func(t *testing.T, key string) {
		must[*s3.PutBucketEncryptionOutput](t)(e.s3.PutBucketEncryption(c, &s3.PutBucketEncryptionInput{Bucket: aws.String("onekey"),
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{
				{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(key)}}}}}))
	}
	plain := func() error {
		_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("onekey"), Key: aws.String("d"), Body: stringsReader("data")})
		return err
	}
	t.Run("bucket default of another key", func(t *testing.T) {
		setDefault(t, other)
		wantAPIError(t, plain(), "AccessDenied", 403)
	})
	t.Run("bucket default of the required key", func(t *testing.T) {
		setDefault(t, wanted)
		if err := plain(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBucketPolicyNetworkConditions: aws:SourceIp and aws:SecureTransport conditions.
func TestBucketPolicyNetworkConditions(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	for _, name := range []string{"fromhere", "elsewhere", "tlsonly"} {
		newBucket(t, e, name)
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("k"), Body: stringsReader("data")}))
	}
	// A grant to "*" limited to fixed addresses is not public: Block Public Access lets it be.
	ipGrant := func(bucket, cidr string) string {
		return policyDoc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/*",
		  "Condition":{"IpAddress":{"aws:SourceIp":"` + cidr + `"}}}`)
	}
	e.mustPutPolicy(t, "fromhere", ipGrant("fromhere", "127.0.0.0/8"))
	e.mustPutPolicy(t, "elsewhere", ipGrant("elsewhere", "192.0.2.0/24"))
	e.mustPutPolicy(t, "tlsonly", policyDoc(`{"Sid":"HTTPSOnly","Effect":"Deny","Principal":"*","Action":"s3:*",
		"Resource":["arn:aws:s3:::tlsonly","arn:aws:s3:::tlsonly/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`))

	t.Run("anonymous from an allowed address", func(t *testing.T) {
		resp := e.anonymous(t, http.MethodGet, "/fromhere/k")
		if body := mustRead(t, resp); resp.StatusCode != 200 || string(body) != "data" {
			t.Fatalf("GET: %d %q", resp.StatusCode, body)
		}
	})
	t.Run("anonymous from another address", func(t *testing.T) {
		wantRawError(t, e.anonymous(t, http.MethodGet, "/elsewhere/k"), "AccessDenied", 403)
	})
	plain := e.client(testAccessKey, testSecretKey, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.srv.HTTPURL) })
	t.Run("plain HTTP denied", func(t *testing.T) {
		_, err := plain.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("tlsonly"), Key: aws.String("k")})
		wantAPIError(t, err, "AccessDenied", 403)
		_, err = plain.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String("tlsonly")})
		wantAPIError(t, err, "AccessDenied", 403)
	})
	t.Run("plain HTTP elsewhere allowed", func(t *testing.T) {
		must[*s3.GetObjectOutput](t)(plain.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("elsewhere"), Key: aws.String("k")}))
	})
	t.Run("HTTPS allowed", func(t *testing.T) {
		must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("tlsonly"), Key: aws.String("k")}))
	})
}
