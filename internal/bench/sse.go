package bench

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// sseHeaders are the encryption headers of every PUT (and, for SSE-C, GET).
type sseHeaders struct {
	mode      string
	kmsKeyID  string
	bucketKey bool
	custKey   string // SSE-C key, base64; random for this run and never printed
	custMD5   string
}

func newSSEHeaders(mode, kmsKeyID string, bucketKey bool) sseHeaders {
	h := sseHeaders{mode: mode, kmsKeyID: kmsKeyID, bucketKey: bucketKey}
	if mode == "c" {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		sum := md5.Sum(key) // the SSE-C protocol's integrity check of the key, not a security MAC
		h.custKey = base64.StdEncoding.EncodeToString(key)
		h.custMD5 = base64.StdEncoding.EncodeToString(sum[:])
		clear(key) // best effort: the base64 copy lives as long as the run
	}
	return h
}

func (h *sseHeaders) put(in *s3.PutObjectInput) {
	switch h.mode {
	case "s3":
		in.ServerSideEncryption = types.ServerSideEncryptionAes256
	case "kms":
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		if h.kmsKeyID != "" {
			in.SSEKMSKeyId = aws.String(h.kmsKeyID)
		}
		if h.bucketKey {
			in.BucketKeyEnabled = aws.Bool(true)
		}
	case "c":
		in.SSECustomerAlgorithm = aws.String("AES256")
		in.SSECustomerKey = aws.String(h.custKey)
		in.SSECustomerKeyMD5 = aws.String(h.custMD5)
	}
}

func (h *sseHeaders) get(in *s3.GetObjectInput) {
	if h.mode == "c" {
		in.SSECustomerAlgorithm = aws.String("AES256")
		in.SSECustomerKey = aws.String(h.custKey)
		in.SSECustomerKeyMD5 = aws.String(h.custMD5)
	}
}

// confirmed checks that a response says the object is stored encrypted as asked: a server
// that ignores the headers would otherwise be measured as if it encrypted.
func (h *sseHeaders) confirmed(sse types.ServerSideEncryption, custAlg *string) error {
	var ok bool
	switch h.mode {
	case "none":
		return nil
	case "s3":
		ok = sse == types.ServerSideEncryptionAes256
	case "kms":
		ok = sse == types.ServerSideEncryptionAwsKms || sse == types.ServerSideEncryptionAwsKmsDsse
	case "c":
		ok = aws.ToString(custAlg) == "AES256"
	}
	if ok {
		return nil
	}
	return &sseNotConfirmedError{mode: h.mode}
}

// allowSSEC unblocks SSE-C on the run's own bucket: new buckets block SSE-C writes, in S3 since
// April 2026 and in Coffer, until PutBucketEncryption lists no blocked type. The default
// encryption stays SSE-S3.
func (r *s3Run) allowSSEC(ctx context.Context) error {
	_, err := r.c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &r.bucket,
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256},
			BlockedEncryptionTypes:             &types.BlockedEncryptionTypes{EncryptionType: []types.EncryptionType{types.EncryptionTypeNone}},
		}}}})
	return err
}
