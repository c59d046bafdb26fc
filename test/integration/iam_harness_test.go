package integration

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// creds are credentials for the clients below: a long-term key, or (with Token) a role
// session's temporary credentials.
type creds struct{ AccessKey, Secret, Token string }

var rootCreds = creds{testAccessKey, testSecretKey, ""}

// awsConfig returns an SDK configuration that signs with c and reaches the server.
func (e *env) awsConfig(c creds) aws.Config {
	tr := e.transport()
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.TLSClientConfig = tr.TLSClientConfig
		t.DialContext = tr.DialContext
	})
	return aws.Config{
		Region:           e.region,
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKey, c.Secret, c.Token),
		HTTPClient:       hc,
		BaseEndpoint:     aws.String(e.srv.URL),
		RetryMaxAttempts: 1,
	}
}

func (e *env) iamAs(c creds) *iam.Client { return iam.NewFromConfig(e.awsConfig(c)) }
func (e *env) stsAs(c creds) *sts.Client { return sts.NewFromConfig(e.awsConfig(c)) }
func (e *env) kmsAs(c creds) *kms.Client { return kms.NewFromConfig(e.awsConfig(c)) }
func (e *env) s3As(c creds) *s3.Client {
	return s3.NewFromConfig(e.awsConfig(c), func(o *s3.Options) { o.UsePathStyle = true })
}
