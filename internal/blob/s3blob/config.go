package s3blob

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	// DefaultPartSize is the multipart part size, and so the largest blob sent in one
	// PutObject. A Put holds one such buffer, a multipart Put two, whatever the blob's size.
	DefaultPartSize = 8 << 20
	// minPartSize is S3's smallest part (but the last).
	minPartSize = 5 << 20
	// DefaultReadAhead is how much a Reader fetches at once for small reads.
	DefaultReadAhead = 1 << 20
)

// Config says where the blobs live and how to reach them.
type Config struct {
	Bucket string
	// Prefix is prepended to every blob name; "" or a '/'-separated path (a '/' is added
	// between it and the names).
	Prefix string
	// Endpoint is the store's base URL (https://host:port); "" for AWS S3 itself.
	Endpoint string
	// Region signs requests; "" takes the SDK's default (AWS_REGION, the profile), else us-east-1.
	Region string
	// PathStyle addresses buckets as endpoint/bucket rather than bucket.endpoint; most
	// self-hosted stores need it.
	PathStyle bool
	// CAFile is a PEM bundle that replaces the system roots for the endpoint; "" for the system's.
	CAFile string
	// Credentials signs requests; nil for the SDK's default chain (AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY, the shared credentials file and AWS_PROFILE, web identity,
	// container and instance roles). They never come from the URL.
	Credentials aws.CredentialsProvider
	// PartSize is the multipart part size (0: DefaultPartSize; at least 5 MiB).
	PartSize int
	// ReadAhead is the most a Reader fetches beyond a small read (0: DefaultReadAhead).
	ReadAhead int
	// Logger reports the fallback from conditional writes (see Store); nil discards.
	Logger *slog.Logger
}

// ParseURL reads the --blob form s3://bucket/prefix?endpoint=https://...&region=...&ca=/path&path-style=true.
// Credentials are refused in the URL: they come from the SDK's default chain.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("s3blob: %w", ParseError(err))
	}
	if u.Scheme != "s3" {
		return Config{}, fmt.Errorf("s3blob: URL scheme %q, want s3", u.Scheme)
	}
	if u.User != nil {
		return Config{}, errors.New("s3blob: credentials do not belong in the URL; give them in the environment or the shared credentials file")
	}
	if u.Opaque != "" || u.Fragment != "" {
		return Config{}, fmt.Errorf("s3blob: malformed URL %q: want s3://bucket/prefix?options", u.Redacted())
	}
	c := Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}
	for k, vs := range u.Query() {
		if len(vs) != 1 {
			return Config{}, fmt.Errorf("s3blob: option %q given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "endpoint":
			c.Endpoint = v
		case "region":
			c.Region = v
		case "ca":
			c.CAFile = v
		case "path-style":
			if c.PathStyle, err = strconv.ParseBool(v); err != nil {
				return Config{}, fmt.Errorf("s3blob: path-style=%q: want true or false", v)
			}
		default:
			return Config{}, fmt.Errorf("s3blob: unknown option %q (known: endpoint, region, ca, path-style)", k)
		}
	}
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ParseError is the error of url.Parse without the URL it quotes, which may hold credentials
// (errors reach logs).
func ParseError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("malformed URL: %w", ue.Err)
	}
	return err
}

// validate checks what can be checked without the network.
func (c *Config) validate() error {
	if !validBucket(c.Bucket) {
		return fmt.Errorf("s3blob: invalid bucket name %q", c.Bucket)
	}
	if c.Prefix != "" {
		for _, seg := range strings.Split(c.Prefix, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return fmt.Errorf("s3blob: invalid prefix %q: empty, . or .. segment", c.Prefix)
			}
		}
	}
	if c.Endpoint != "" {
		e, err := url.Parse(c.Endpoint)
		if err != nil || (e.Scheme != "https" && e.Scheme != "http") || e.Host == "" || e.User != nil {
			shown := "(unparsable)"
			if err == nil {
				shown = e.Redacted()
			}
			return fmt.Errorf("s3blob: endpoint %q: want https://host[:port], without credentials", shown)
		}
	}
	if c.PartSize != 0 && c.PartSize < minPartSize {
		return fmt.Errorf("s3blob: part size %d below S3's minimum of 5 MiB", c.PartSize)
	}
	return nil
}

// validBucket accepts S3's bucket names: 3-63 of [a-z0-9.-], starting and ending with a letter
// or digit.
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	edge := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	return edge(b[0]) && edge(b[len(b)-1])
}

// newClient builds the S3 client c describes.
func newClient(ctx context.Context, c Config) (*s3.Client, error) {
	hc := awshttp.NewBuildableClient()
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("s3blob: CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("s3blob: CA bundle %s holds no PEM certificate", c.CAFile)
		}
		hc = hc.WithTransportOptions(func(t *http.Transport) {
			t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		})
	}
	hc = hc.WithTransportOptions(func(t *http.Transport) { t.MaxIdleConnsPerHost = 64 })
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(hc)}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(c.Credentials))
	}
	ac, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3blob: SDK configuration: %w", err)
	}
	if ac.Region == "" {
		ac.Region = "us-east-1"
	}
	// Put sends its own CRC32C values; responses are checked where the store sends checksums.
	ac.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	ac.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	return s3.NewFromConfig(ac, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = c.PathStyle
		// Ranged GETs carry no whole-object checksum to check; do not log each one.
		o.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}
