package bench

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// awsConfig builds the SDK configuration every client of a run shares: static credentials,
// the SDK's default checksum behaviour (as real clients have it), no retries (a failed
// request is counted, not hidden), and the SDK's default transport set to keep a connection
// per worker. The caller closes the transport's idle connections when the run ends.
func awsConfig(c Conn, conc int) (aws.Config, *http.Transport, error) {
	tr := awshttp.NewBuildableClient().GetTransport()
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	switch {
	case c.Insecure:
		tr.TLSClientConfig.InsecureSkipVerify = true // asked for with --insecure
	case c.CACert != "":
		pem, err := os.ReadFile(c.CACert)
		if err != nil {
			return aws.Config{}, nil, fmt.Errorf("--ca-cert: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return aws.Config{}, nil, fmt.Errorf("--ca-cert: no PEM certificate in %s", c.CACert)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	tr.MaxIdleConns = conc * 2
	tr.MaxIdleConnsPerHost = conc * 2
	// Object bodies are random bytes; asking for gzip would only cost the server time.
	tr.DisableCompression = true
	return aws.Config{
		Region:                     c.Region,
		Credentials:                credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey.Plaintext(), ""),
		HTTPClient:                 &http.Client{Transport: tr},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		RetryMaxAttempts:           1,
	}, tr, nil
}
