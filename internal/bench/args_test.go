package bench

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

var noEnv = env(nil)

// creds are flags that satisfy the credential check, so that each case tests one thing.
var creds = []string{"--endpoint", "https://127.0.0.1:1", "--access-key", "AK", "--secret-key", "SK"}

func TestArgumentErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // in the one-line message
	}{
		{"no target", nil, nil, "usage: coffer bench"},
		{"unknown target", []string{"sqs"}, nil, `unknown target "sqs"`},
		{"unknown flag", append([]string{"s3", "--bogus"}, creds...), nil, "flag provided but not defined: -bogus"},
		{"stray argument", append([]string{"s3", "extra"}, creds...), nil, `unexpected argument "extra"`},
		{"no endpoint", []string{"s3", "--access-key", "A", "--secret-key", "S"}, nil, "--endpoint URL is required"},
		{"endpoint without scheme", []string{"s3", "--endpoint", "127.0.0.1:9000", "--access-key", "A", "--secret-key", "S"}, nil, "must start with https:// or http://"},
		{"no credentials", []string{"s3", "--endpoint", "https://x"}, nil, "credentials required"},
		{"only an access key in env", []string{"kms", "--endpoint", "https://x"}, map[string]string{"AWS_ACCESS_KEY_ID": "A"}, "credentials required"},
		{"ca-cert and insecure", append([]string{"s3", "--ca-cert", "c.pem", "--insecure"}, creds...), nil, "not both"},
		{"bad op", append([]string{"s3", "--op", "delete"}, creds...), nil, "--op must be one of put|get|mixed|list"},
		{"bad size", append([]string{"s3", "--size", "4KiBs"}, creds...), nil, `bad size "4KiBs"`},
		{"zero size put", append([]string{"s3", "--size", "0"}, creds...), nil, "--size must be positive"},
		{"huge size", append([]string{"s3", "--size", "2GiB"}, creds...), nil, "--size must be at most 1GiB"},
		{"zero concurrency", append([]string{"s3", "--concurrency", "0"}, creds...), nil, "--concurrency must be between 1 and 4096"},
		{"negative duration", append([]string{"s3", "--duration", "-1s"}, creds...), nil, "--duration must be positive"},
		{"duration without unit", append([]string{"s3", "--duration", "10"}, creds...), nil, "invalid value"},
		{"zero objects", append([]string{"s3", "--op", "get", "--objects", "0"}, creds...), nil, "--objects must be between"},
		{"bad sse", append([]string{"s3", "--sse", "aes"}, creds...), nil, "--sse must be one of none|s3|kms|c"},
		{"kms key without sse kms", append([]string{"s3", "--sse", "s3", "--kms-key-id", "k"}, creds...), nil, "need --sse kms"},
		{"bucket key without sse kms", append([]string{"s3", "--bucket-key"}, creds...), nil, "need --sse kms"},
		{"bad bucket name", append([]string{"s3", "--bucket", "My_Bucket"}, creds...), nil, "not a valid bucket name"},
		{"reuse without prefix", append([]string{"s3", "--op", "get", "--reuse", "--bucket", "b12"}, creds...), nil, "--reuse needs --bucket and --prefix"},
		{"reuse with put", append([]string{"s3", "--reuse", "--bucket", "b12", "--prefix", "p/"}, creds...), nil, "--reuse is for --op get or list"},
		{"reuse with sse c", append([]string{"s3", "--op", "get", "--sse", "c", "--reuse", "--bucket", "b12", "--prefix", "p/"}, creds...), nil, "cannot read SSE-C objects"},
		{"bad page size", append([]string{"s3", "--op", "list", "--page-size", "5000"}, creds...), nil, "--page-size must be between 1 and 1000"},
		{"bad kms op", append([]string{"kms", "--op", "verify"}, creds...), nil, "--op must be one of generate-data-key|decrypt|encrypt|sign"},
		{"kms message too big", append([]string{"kms", "--op", "sign", "--size", "8KiB"}, creds...), nil, "--size must be between 1B and 4KiB"},
		{"kms zero concurrency", append([]string{"kms", "--concurrency", "-3"}, creds...), nil, "--concurrency must be between"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tc.args, &stdout, &stderr, env(tc.env))
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr.String())
			}
			msg := stderr.String()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("stderr %q lacks %q", msg, tc.want)
			}
			if len(tc.args) > 0 && strings.Count(msg, "\n") != 1 {
				t.Errorf("want a one-line error, got %q", msg)
			}
			if stdout.Len() != 0 {
				t.Errorf("nothing belongs on stdout, got %q", stdout.String())
			}
		})
	}
}

func TestParseS3Args(t *testing.T) {
	t.Run("defaults and credentials from the environment", func(t *testing.T) {
		c, err := ParseS3Args([]string{"--endpoint", "https://h:1"}, env(map[string]string{
			"AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "SKENV",
		}))
		if err != nil {
			t.Fatal(err)
		}
		want := S3Config{
			Conn: Conn{Endpoint: "https://h:1", Region: "us-east-1", AccessKey: "AKENV", SecretKey: "SKENV"},
			Op:   "put", Size: 4096, Objects: 100, Concurrency: 8, Duration: 15 * time.Second, SSE: "none", PageSize: 1000,
		}
		if c != want {
			t.Errorf("got %+v\nwant %+v", c, want)
		}
	})
	t.Run("every flag", func(t *testing.T) {
		c, err := ParseS3Args([]string{"--endpoint", "http://h:2", "--region", "eu-west-3", "--access-key", "AK", "--secret-key", "SK",
			"--ca-cert", "/c.pem", "--op", "mixed", "--size", "64MiB", "--objects", "7", "--concurrency", "3",
			"--duration", "2m", "--sse", "kms", "--kms-key-id", "alias/x", "--bucket-key", "--bucket", "reuse.me",
			"--keep", "--prefix", "p/", "--page-size", "10", "--json"}, env(map[string]string{"AWS_ACCESS_KEY_ID": "ignored"}))
		if err != nil {
			t.Fatal(err)
		}
		want := S3Config{
			Conn: Conn{Endpoint: "http://h:2", Region: "eu-west-3", AccessKey: "AK", SecretKey: "SK", CACert: "/c.pem"},
			Op:   "mixed", Size: 64 << 20, Objects: 7, Concurrency: 3, Duration: 2 * time.Minute, SSE: "kms",
			KMSKeyID: "alias/x", BucketKey: true, Bucket: "reuse.me", Keep: true, Prefix: "p/", PageSize: 10, JSON: true,
		}
		if c != want {
			t.Errorf("got %+v\nwant %+v", c, want)
		}
	})
}

func TestSecretRedacted(t *testing.T) {
	c, err := ParseS3Args([]string{"--endpoint", "https://h", "--access-key", "AK", "--secret-key", "s3cr3t-value"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, c); strings.Contains(out, "s3cr3t-value") || !strings.Contains(out, "REDACTED") {
			t.Errorf("%s prints %s", verb, out)
		}
	}
	if c.SecretKey.Plaintext() != "s3cr3t-value" {
		t.Error("Plaintext lost the secret")
	}
}

func TestParseKMSArgs(t *testing.T) {
	c, err := ParseKMSArgs(append([]string{"--op", "sign", "--key-id", "k1", "--insecure", "--size", "1KiB", "--duration", "3s", "--concurrency", "4"}, creds...), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := KMSConfig{
		Conn: Conn{Endpoint: "https://127.0.0.1:1", Region: "us-east-1", AccessKey: "AK", SecretKey: "SK", Insecure: true},
		Op:   "sign", KeyID: "k1", Size: 1024, Concurrency: 4, Duration: 3 * time.Second,
	}
	if c != want {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"s3", "-h"}, {"kms", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Main(context.Background(), args, &stdout, &stderr, noEnv); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if !strings.Contains(stdout.String(), "--endpoint") && !strings.Contains(stdout.String(), "-endpoint") {
				t.Errorf("help lacks the flags: %s", stdout.String())
			}
		})
	}
}
