package kmsapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// benchClient is an SDK client whose transport keeps enough idle connections for 16
// concurrent requests (the default keeps 2 per host).
func benchClient(e *env) *awskms.Client {
	tr := e.srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return awskms.New(awskms.Options{
		Region: testRegion, BaseEndpoint: aws.String(e.srv.URL), HTTPClient: &http.Client{Transport: tr},
		Credentials: credentials.NewStaticCredentialsProvider(testAccess, testSecret, ""), Retryer: aws.NopRetryer{},
	})
}

// parallelism gives about 16 concurrent clients on a 2-core machine.
func parallelism() int {
	return 8
}

func BenchmarkGenerateDataKey(b *testing.B) {
	e := newEnv(b, "")
	c := benchClient(e)
	id := e.createKey(b, nil)
	b.ResetTimer()
	generateDataKeys(b, c, id)
}

// generateDataKeys runs GenerateDataKey under key id from about 16 concurrent clients,
// reporting requests per second.
func generateDataKeys(b *testing.B, c *awskms.Client, id string) {
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/object"}
	b.SetParallelism(parallelism())
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.GenerateDataKey(ctx(), &awskms.GenerateDataKeyInput{KeyId: &id, KeySpec: types.DataKeySpecAes256, EncryptionContext: ec}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func BenchmarkDecrypt(b *testing.B) {
	e := newEnv(b, "")
	c := benchClient(e)
	id := e.createKey(b, nil)
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/object"}
	dk, err := c.GenerateDataKey(ctx(), &awskms.GenerateDataKeyInput{KeyId: &id, KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(parallelism())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ec}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func BenchmarkSignP256(b *testing.B) {
	e := newEnv(b, "")
	c := benchClient(e)
	id := e.createKey(b, &awskms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	msg := []byte("benchmark message")
	b.SetParallelism(parallelism())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Sign(ctx(), &awskms.SignInput{KeyId: &id, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// largeKeyPolicy is a 20-statement key policy of the kinds people write: the account root,
// key administrators, key users with encryption-context and via-service conditions, and
// denies; none of its statements but the first allows the root, so every request is matched
// against all of them (a deny anywhere would win).
func largeKeyPolicy(account string) string {
	st := []string{fmt.Sprintf(`{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"kms:*","Resource":"*"}`, account)}
	for i := 1; len(st) < 20; i++ {
		switch i % 4 {
		case 0:
			st = append(st, fmt.Sprintf(`{"Sid":"admins%d","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::%s:role/admin-%d","arn:aws:iam::%s:user/ops-%d"]},"Action":["kms:Create*","kms:Describe*","kms:Enable*","kms:List*","kms:Put*","kms:Update*","kms:Revoke*","kms:Disable*","kms:Get*","kms:Delete*","kms:TagResource","kms:UntagResource","kms:ScheduleKeyDeletion","kms:CancelKeyDeletion"],"Resource":"*"}`, i, account, i, account, i))
		case 1:
			st = append(st, fmt.Sprintf(`{"Sid":"users%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:role/app-%d"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::bucket-%d/*"}}}`, i, account, i, i))
		case 2:
			st = append(st, fmt.Sprintf(`{"Sid":"via%d","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"%s","kms:ViaService":"s3.us-east-1.amazonaws.com"},"IpAddress":{"aws:SourceIp":"10.%d.0.0/16"}}}`, i, account, i))
		case 3:
			st = append(st, fmt.Sprintf(`{"Sid":"deny%d","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::%s:user/former-%d"},"Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, i, account, i))
		}
	}
	return `{"Version":"2012-10-17","Id":"bench","Statement":[` + strings.Join(st, ",") + `]}`
}

// BenchmarkGenerateDataKeyPolicy compares GenerateDataKey under the default key policy and
// under a 20-statement one, in the same run: authorization must cost under 5%.
func BenchmarkGenerateDataKeyPolicy(b *testing.B) {
	e := newEnv(b, "")
	c := benchClient(e)
	for _, bc := range []struct{ name, policy string }{
		{"default policy", ""},
		{"20 statements", largeKeyPolicy(testAccount)},
	} {
		in := &awskms.CreateKeyInput{}
		if bc.policy != "" {
			in.Policy = aws.String(bc.policy)
		}
		id := e.createKey(b, in)
		b.Run(bc.name, func(b *testing.B) { generateDataKeys(b, c, id) })
	}
}
