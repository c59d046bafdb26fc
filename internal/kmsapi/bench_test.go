package kmsapi

import (
	"net/http"
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
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/object"}
	b.SetParallelism(parallelism())
	b.ResetTimer()
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
