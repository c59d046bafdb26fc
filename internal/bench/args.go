package bench

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"time"
)

// Conn says how to reach and sign requests for an endpoint.
type Conn struct {
	Endpoint  string
	Region    string
	AccessKey string
	SecretKey Secret
	CACert    string // PEM file of an extra trusted certificate
	Insecure  bool   // skip certificate verification
}

// Secret is a secret access key. It prints as REDACTED, so that a config dumped in a log or
// a test failure does not show it; Plaintext gives the value to the signer.
type Secret string

// String hides the secret from fmt's %v and %s.
func (Secret) String() string { return "REDACTED" }

// GoString hides the secret from fmt's %#v.
func (Secret) GoString() string { return "REDACTED" }

// Plaintext returns the secret itself, for signing requests.
func (s Secret) Plaintext() string { return string(s) }

// S3Config is a parsed `coffer bench s3` command line.
type S3Config struct {
	Conn
	Op          string // put, get, mixed, list
	Size        int64
	Objects     int // objects preloaded for get, mixed and list
	Concurrency int
	Duration    time.Duration
	SSE         string // none, s3, kms, c
	KMSKeyID    string
	BucketKey   bool
	Bucket      string // reuse this bucket instead of creating one
	Keep        bool   // leave the bucket and objects behind
	Prefix      string // key prefix of the run's objects; "" for coffer-bench-<random>/
	// Reuse reads the --objects objects an earlier run left under Prefix in Bucket (with
	// --keep) instead of preloading new ones, and deletes nothing. It lets a server read
	// objects another build wrote into the same data directory.
	Reuse    bool
	PageSize int // MaxKeys of each ListObjectsV2 page
	JSON     bool
}

// KMSConfig is a parsed `coffer bench kms` command line.
type KMSConfig struct {
	Conn
	Op          string // generate-data-key, decrypt, encrypt, sign
	KeyID       string // reuse this key instead of creating one
	Size        int64  // plaintext (encrypt) or message (sign) size
	Concurrency int
	Duration    time.Duration
	JSON        bool
	// WRKScript, when set, makes the run write a wrk(1) Lua script replaying one signed
	// request of Op instead of sending load itself (see wrk.go).
	WRKScript string
}

var (
	s3Ops  = []string{"put", "get", "mixed", "list"}
	sseAll = []string{"none", "s3", "kms", "c"}
	kmsOps = []string{"generate-data-key", "decrypt", "encrypt", "sign"}
)

// connFlags registers the flags shared by both targets.
func connFlags(fs *flag.FlagSet, c *Conn) {
	fs.StringVar(&c.Endpoint, "endpoint", "", "endpoint URL, e.g. https://127.0.0.1:9000 (required)")
	fs.StringVar(&c.Region, "region", "us-east-1", "region to sign requests for")
	fs.StringVar(&c.AccessKey, "access-key", "", "access key id (default $AWS_ACCESS_KEY_ID)")
	fs.Func("secret-key", "secret access key (default $AWS_SECRET_ACCESS_KEY)", func(v string) error {
		c.SecretKey = Secret(v)
		return nil
	})
	fs.StringVar(&c.CACert, "ca-cert", "", "PEM certificate to trust, e.g. DIR/tls/cert.pem of coffer server")
	fs.BoolVar(&c.Insecure, "insecure", false, "do not verify the server's certificate")
}

// parseFlags runs fs over args and turns every problem into a one-line usageError. It
// returns flag.ErrHelp for -h.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// checkConn fills credentials from the environment and validates the connection flags.
func checkConn(c *Conn, getenv func(string) string) error {
	if c.AccessKey == "" {
		c.AccessKey = getenv("AWS_ACCESS_KEY_ID")
	}
	if c.SecretKey == "" {
		c.SecretKey = Secret(getenv("AWS_SECRET_ACCESS_KEY"))
	}
	switch {
	case c.Endpoint == "":
		return usagef("--endpoint URL is required")
	case !strings.HasPrefix(c.Endpoint, "https://") && !strings.HasPrefix(c.Endpoint, "http://"):
		return usagef("--endpoint %q must start with https:// or http://", c.Endpoint)
	case c.AccessKey == "" || c.SecretKey == "":
		return usagef("credentials required: --access-key and --secret-key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	case c.CACert != "" && c.Insecure:
		return usagef("give --ca-cert or --insecure, not both")
	case c.Region == "":
		return usagef("--region must not be empty")
	}
	return nil
}

func checkLoad(conc int, d time.Duration) error {
	switch {
	case conc < 1 || conc > 4096:
		return usagef("--concurrency must be between 1 and 4096, got %d", conc)
	case d <= 0:
		return usagef("--duration must be positive, got %s", d)
	}
	return nil
}

func oneOf(name, v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return usagef("--%s must be one of %s, got %q", name, strings.Join(allowed, "|"), v)
}

// sizeFlag is a flag.Value for byte sizes such as 4KiB.
type sizeFlag struct{ n *int64 }

func (s sizeFlag) String() string {
	if s.n == nil {
		return ""
	}
	return FormatSize(*s.n)
}

func (s sizeFlag) Set(v string) error {
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	*s.n = n
	return nil
}

// s3Flags defines the flags of `coffer bench s3` over c, with their defaults.
func s3Flags(c *S3Config) *flag.FlagSet {
	c.Size = 4 << 10
	fs := flag.NewFlagSet("s3", flag.ContinueOnError)
	connFlags(fs, &c.Conn)
	fs.StringVar(&c.Op, "op", "put", "operation: "+strings.Join(s3Ops, "|"))
	fs.Var(sizeFlag{&c.Size}, "size", "object size, e.g. 4KiB, 1MiB, 64MiB")
	fs.IntVar(&c.Objects, "objects", 100, "objects preloaded for get, mixed and list")
	fs.IntVar(&c.Concurrency, "concurrency", 8, "requests in flight")
	fs.DurationVar(&c.Duration, "duration", 15*time.Second, "how long to send requests")
	fs.StringVar(&c.SSE, "sse", "none", "server-side encryption: "+strings.Join(sseAll, "|"))
	fs.StringVar(&c.KMSKeyID, "kms-key-id", "", "KMS key for --sse kms (default: the bucket's or AWS managed key)")
	fs.BoolVar(&c.BucketKey, "bucket-key", false, "ask for an S3 Bucket Key with --sse kms")
	fs.StringVar(&c.Bucket, "bucket", "", "use this existing bucket instead of creating coffer-bench-<random>")
	fs.BoolVar(&c.Keep, "keep", false, "keep the bucket and objects at the end")
	fs.StringVar(&c.Prefix, "prefix", "", "key prefix of the run's objects (default coffer-bench-<random>/)")
	fs.BoolVar(&c.Reuse, "reuse", false, "get, list: read the objects an earlier run left under --prefix in --bucket (with --keep) instead of preloading; delete nothing")
	fs.IntVar(&c.PageSize, "page-size", 1000, "MaxKeys of each ListObjectsV2 request (list)")
	fs.BoolVar(&c.JSON, "json", false, "print one JSON object instead of a table")
	return fs
}

// ParseS3Args reads the arguments of `coffer bench s3`.
func ParseS3Args(args []string, getenv func(string) string) (S3Config, error) {
	var c S3Config
	if err := parseFlags(s3Flags(&c), args); err != nil {
		return c, err
	}
	if err := checkConn(&c.Conn, getenv); err != nil {
		return c, err
	}
	if err := checkLoad(c.Concurrency, c.Duration); err != nil {
		return c, err
	}
	if err := oneOf("op", c.Op, s3Ops); err != nil {
		return c, err
	}
	if err := oneOf("sse", c.SSE, sseAll); err != nil {
		return c, err
	}
	switch {
	case c.Size < 0 || (c.Size == 0 && c.Op != "list"):
		return c, usagef("--size must be positive")
	case c.Size > 1<<30:
		return c, usagef("--size must be at most 1GiB (the payload is held in memory once), got %s", FormatSize(c.Size))
	case c.Objects < 1 || c.Objects > 10_000_000:
		return c, usagef("--objects must be between 1 and 10000000, got %d", c.Objects)
	case c.PageSize < 1 || c.PageSize > 1000:
		return c, usagef("--page-size must be between 1 and 1000, got %d", c.PageSize)
	case (c.KMSKeyID != "" || c.BucketKey) && c.SSE != "kms":
		return c, usagef("--kms-key-id and --bucket-key need --sse kms")
	case c.Bucket != "" && !validBucketName(c.Bucket):
		return c, usagef("--bucket %q is not a valid bucket name", c.Bucket)
	case c.Reuse && (c.Bucket == "" || c.Prefix == ""):
		return c, usagef("--reuse needs --bucket and --prefix")
	case c.Reuse && c.Op != "get" && c.Op != "list":
		return c, usagef("--reuse is for --op get or list, not %s", c.Op)
	case c.Reuse && c.SSE == "c":
		return c, usagef("--reuse cannot read SSE-C objects: each run makes its own customer key")
	}
	return c, nil
}

// kmsFlags defines the flags of `coffer bench kms` over c, with their defaults.
func kmsFlags(c *KMSConfig) *flag.FlagSet {
	c.Size = 32
	fs := flag.NewFlagSet("kms", flag.ContinueOnError)
	connFlags(fs, &c.Conn)
	fs.StringVar(&c.Op, "op", "generate-data-key", "operation: "+strings.Join(kmsOps, "|"))
	fs.StringVar(&c.KeyID, "key-id", "", "use this key instead of creating one (symmetric, or a signing key for sign)")
	fs.Var(sizeFlag{&c.Size}, "size", "plaintext size for encrypt, message size for sign (at most 4KiB)")
	fs.IntVar(&c.Concurrency, "concurrency", 8, "requests in flight")
	fs.DurationVar(&c.Duration, "duration", 15*time.Second, "how long to send requests")
	fs.BoolVar(&c.JSON, "json", false, "print one JSON object instead of a table")
	fs.StringVar(&c.WRKScript, "wrk-script", "", "write a wrk Lua script replaying one signed request of --op to FILE, and exit (measures the server without the SDK's client cost)")
	return fs
}

// ParseKMSArgs reads the arguments of `coffer bench kms`.
func ParseKMSArgs(args []string, getenv func(string) string) (KMSConfig, error) {
	var c KMSConfig
	if err := parseFlags(kmsFlags(&c), args); err != nil {
		return c, err
	}
	if err := checkConn(&c.Conn, getenv); err != nil {
		return c, err
	}
	if err := checkLoad(c.Concurrency, c.Duration); err != nil {
		return c, err
	}
	if err := oneOf("op", c.Op, kmsOps); err != nil {
		return c, err
	}
	if c.Size < 1 || c.Size > 4096 {
		return c, usagef("--size must be between 1B and 4KiB for kms, got %s", FormatSize(c.Size))
	}
	return c, nil
}

// validBucketName applies S3's rules for new bucket names, loosely: 3-63 characters of
// lower-case letters, digits, dots and hyphens.
func validBucketName(s string) bool {
	if len(s) < 3 || len(s) > 63 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}
