package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func (e *env) cloudtrailAs(c creds) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(e.awsConfig(c))
}

// trailBucketPolicy is the bucket policy AWS documents for a CloudTrail trail's bucket: the
// service may read the bucket's ACL and write under AWSLogs/<account>/ with
// bucket-owner-full-control, for trails of that account.
func trailBucketPolicy(bucket, prefix, account string) string {
	logs := "arn:aws:s3:::" + bucket + "/"
	if prefix != "" {
		logs += prefix + "/"
	}
	logs += "AWSLogs/" + account + "/*"
	return `{"Version":"2012-10-17","Statement":[
	 {"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::` + bucket + `",
	  "Condition":{"StringLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:` + account + `:trail/*"}}},
	 {"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"` + logs + `",
	  "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceAccount":"` + account + `"}}}]}`
}

// trailBucket creates a bucket that trails of account may deliver into under prefix.
func (e *env) trailBucket(t *testing.T, c creds, bucket, prefix, account string) {
	t.Helper()
	sc := e.s3As(c)
	must[*s3.CreateBucketOutput](t)(sc.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String(bucket)}))
	must[*s3.PutBucketPolicyOutput](t)(sc.PutBucketPolicy(ctx(t), &s3.PutBucketPolicyInput{Bucket: aws.String(bucket),
		Policy: aws.String(trailBucketPolicy(bucket, prefix, account))}))
}

// newTrail creates a trail with log file validation into bucket under prefix.
func (e *env) newTrail(t *testing.T, c creds, name, bucket, prefix string) *cloudtrail.CreateTrailOutput {
	t.Helper()
	in := &cloudtrail.CreateTrailInput{Name: aws.String(name), S3BucketName: aws.String(bucket), EnableLogFileValidation: aws.Bool(true)}
	if prefix != "" {
		in.S3KeyPrefix = aws.String(prefix)
	}
	return must[*cloudtrail.CreateTrailOutput](t)(e.cloudtrailAs(c).CreateTrail(ctx(t), in))
}
