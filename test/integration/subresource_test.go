package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestUnconfiguredSubresources: reads of configuration Coffer does not store answer as S3 does
// for a bucket that has none, so tools that read them all (Terraform) work; writes still say
// NotImplemented rather than drop the setting.
func TestUnconfiguredSubresources(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "conf")
	b := aws.String("conf")
	notFound := []struct {
		name string
		call func() error
		code string
	}{
		{"policy", func() error { _, err := e.s3.GetBucketPolicy(c, &s3.GetBucketPolicyInput{Bucket: b}); return err }, "NoSuchBucketPolicy"},
		{"cors", func() error { _, err := e.s3.GetBucketCors(c, &s3.GetBucketCorsInput{Bucket: b}); return err }, "NoSuchCORSConfiguration"},
		{"tagging", func() error { _, err := e.s3.GetBucketTagging(c, &s3.GetBucketTaggingInput{Bucket: b}); return err }, "NoSuchTagSet"},
		{"lifecycle", func() error {
			_, err := e.s3.GetBucketLifecycleConfiguration(c, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
			return err
		}, "NoSuchLifecycleConfiguration"},
		{"website", func() error { _, err := e.s3.GetBucketWebsite(c, &s3.GetBucketWebsiteInput{Bucket: b}); return err }, "NoSuchWebsiteConfiguration"},
		{"object lock", func() error {
			_, err := e.s3.GetObjectLockConfiguration(c, &s3.GetObjectLockConfigurationInput{Bucket: b})
			return err
		}, "ObjectLockConfigurationNotFoundError"},
	}
	for _, tc := range notFound {
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, tc.call(), tc.code, 404) })
	}
	t.Run("acl", func(t *testing.T) {
		out := must[*s3.GetBucketAclOutput](t)(e.s3.GetBucketAcl(c, &s3.GetBucketAclInput{Bucket: b}))
		if len(out.Grants) != 1 || out.Grants[0].Permission != types.PermissionFullControl || aws.ToString(out.Owner.ID) == "" {
			t.Fatalf("bucket ACL %+v", out)
		}
	})
	t.Run("logging, request payment, accelerate", func(t *testing.T) {
		lg := must[*s3.GetBucketLoggingOutput](t)(e.s3.GetBucketLogging(c, &s3.GetBucketLoggingInput{Bucket: b}))
		if lg.LoggingEnabled != nil {
			t.Fatal("logging reported enabled")
		}
		rp := must[*s3.GetBucketRequestPaymentOutput](t)(e.s3.GetBucketRequestPayment(c, &s3.GetBucketRequestPaymentInput{Bucket: b}))
		if rp.Payer != types.PayerBucketOwner {
			t.Fatalf("payer %q", rp.Payer)
		}
		must[*s3.GetBucketAccelerateConfigurationOutput](t)(e.s3.GetBucketAccelerateConfiguration(c, &s3.GetBucketAccelerateConfigurationInput{Bucket: b}))
	})
	t.Run("object acl and tagging", func(t *testing.T) {
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("o"), Body: stringsReader("x")}))
		acl := must[*s3.GetObjectAclOutput](t)(e.s3.GetObjectAcl(c, &s3.GetObjectAclInput{Bucket: b, Key: aws.String("o")}))
		if len(acl.Grants) != 1 || acl.Grants[0].Permission != types.PermissionFullControl {
			t.Fatalf("object ACL %+v", acl.Grants)
		}
		tg := must[*s3.GetObjectTaggingOutput](t)(e.s3.GetObjectTagging(c, &s3.GetObjectTaggingInput{Bucket: b, Key: aws.String("o")}))
		if len(tg.TagSet) != 0 {
			t.Fatalf("tags %+v", tg.TagSet)
		}
		_, err := e.s3.GetObjectTagging(c, &s3.GetObjectTaggingInput{Bucket: b, Key: aws.String("missing")})
		wantAPIError(t, err, "NoSuchKey", 404)
	})
	t.Run("writes stay not implemented", func(t *testing.T) {
		_, err := e.s3.PutBucketTagging(c, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}})
		wantAPIError(t, err, "NotImplemented", 501)
	})
	t.Run("missing bucket", func(t *testing.T) {
		_, err := e.s3.GetBucketPolicy(c, &s3.GetBucketPolicyInput{Bucket: aws.String("no-such-bucket")})
		wantAPIError(t, err, "NoSuchBucket", 404)
	})
}
