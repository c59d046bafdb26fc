package s3api

import (
	"errors"
	"testing"

	"github.com/coffer/coffer/internal/fuzzseed"
)

// FuzzParseObjectEncryption: any body yields either an SSE-KMS target under a key ARN the
// service model's pattern allows, or an S3 error; never a panic or a half-read target.
func FuzzParseObjectEncryption(f *testing.F) {
	fuzzseed.Require(f)
	f.Add([]byte(`<ObjectEncryption xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><SSE-KMS><KMSKeyArn>arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab</KMSKeyArn><BucketKeyEnabled>true</BucketKeyEnabled></SSE-KMS></ObjectEncryption>`))
	f.Add([]byte(`<ObjectEncryption><SSE-S3/></ObjectEncryption>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		to, err := parseObjectEncryption(body)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || to.KMSKeyARN != "" || to.BucketKey {
				t.Fatalf("failure gave %v and %+v", err, to)
			}
			return
		}
		if !kmsKeyARN.MatchString(to.KMSKeyARN) {
			t.Fatalf("accepted key ARN %q", to.KMSKeyARN)
		}
	})
}
