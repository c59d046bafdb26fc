package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/server"
)

const (
	testAccessKey = "AKIACOFFERBENCH00001"
	testSecretKey = "cofferBenchSecretKey/0123456789abcdefghij"
)

// live is a Coffer server running in the test, and what `coffer bench` needs to reach it.
type live struct {
	srv  *server.Server
	conn Conn
	s3   *s3.Client
}

func startLive(t testing.TB) *live {
	t.Helper()
	srv, err := server.Start(server.Config{
		Dir: t.TempDir(), Listen: "127.0.0.1:0", Region: "us-east-1",
		AccessKey: testAccessKey, SecretKey: testSecretKey,
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	l := &live{srv: srv, conn: Conn{
		Endpoint: srv.URL, Region: "us-east-1", AccessKey: testAccessKey, SecretKey: testSecretKey, CACert: srv.CertFile,
	}}
	cfg, tr, err := awsConfig(l.conn, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	l.s3 = s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(srv.URL); o.UsePathStyle = true })
	return l
}

// args are the flags that reach the live server, before the target-specific ones.
func (l *live) args(target string, more ...string) []string {
	return append([]string{target, "--endpoint", l.srv.URL, "--ca-cert", l.srv.CertFile,
		"--access-key", testAccessKey, "--secret-key", testSecretKey}, more...)
}

// run runs coffer bench and returns its exit code and outputs.
func (l *live) run(t *testing.T, args []string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, &stdout, &stderr, noEnv)
	return code, stdout.String(), stderr.String()
}

// runJSON runs with --json, expects success, and decodes the report.
func (l *live) runJSON(t *testing.T, args []string) Report {
	t.Helper()
	code, out, errOut := l.run(t, append(args, "--json"))
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if strings.Contains(errOut, "secret") || strings.Contains(out+errOut, testSecretKey) {
		t.Errorf("output mentions the secret key")
	}
	var rep Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, out)
	}
	return rep
}

func (l *live) buckets(t *testing.T) []string {
	t.Helper()
	out, err := l.s3.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range out.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	return names
}

func TestS3Live(t *testing.T) {
	l := startLive(t)
	tests := []struct {
		op       string
		wantOps  []string
		hasBytes bool
	}{
		{"put", []string{"PUT"}, true},
		{"get", []string{"GET"}, true},
		{"list", []string{"LIST"}, false},
		{"mixed", []string{"GET", "PUT"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			rep := l.runJSON(t, l.args("s3", "--op", tc.op, "--size", "4KiB", "--objects", "10",
				"--page-size", "3", "--concurrency", "2", "--duration", "1s"))
			if rep.Target != "s3" || rep.Op != tc.op || rep.Concurrency != 2 || rep.SizeBytes != 4096 || rep.Duration != 1 {
				t.Errorf("report header %+v", rep)
			}
			if rep.Elapsed < 1 {
				t.Errorf("elapsed %vs, shorter than the 1s asked", rep.Elapsed)
			}
			var names []string
			for _, o := range rep.Operations {
				names = append(names, o.Operation)
				if o.Count == 0 || o.Errors != 0 || len(o.ErrorsByCode) != 0 {
					t.Errorf("%s: %d ok, %d errors %v", o.Operation, o.Count, o.Errors, o.ErrorsByCode)
				}
				if want := float64(o.Count) / rep.Elapsed; math.Abs(o.OpsPerSec-want) > want*1e-6 {
					t.Errorf("%s: %v ops/s, want count/elapsed = %v", o.Operation, o.OpsPerSec, want)
				}
				wantBytes := int64(0)
				if tc.hasBytes {
					wantBytes = int64(o.Count) * 4096
				}
				if o.Bytes != wantBytes {
					t.Errorf("%s: %d bytes, want %d", o.Operation, o.Bytes, wantBytes)
				}
				if l := o.Latency; l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
					t.Errorf("%s: latencies not ordered: %+v", o.Operation, l)
				}
			}
			if strings.Join(names, ",") != strings.Join(tc.wantOps, ",") {
				t.Errorf("operations %v, want %v", names, tc.wantOps)
			}
			if b := l.buckets(t); len(b) != 0 {
				t.Errorf("buckets left behind: %v", b)
			}
		})
	}
}

func TestS3LiveTable(t *testing.T) {
	l := startLive(t)
	code, out, errOut := l.run(t, l.args("s3", "--op", "put", "--size", "1KiB", "--concurrency", "1", "--duration", "1s"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "operation  count") || !strings.HasPrefix(lines[2], "PUT ") {
		t.Errorf("want a heading, a header and one PUT row, got:\n%s", out)
	}
	if strings.Contains(out, "\r") || strings.Contains(out, "\033") {
		t.Errorf("progress line drawn although stdout is not a terminal: %q", out)
	}
}

func TestS3LiveInsecureAndEnvCredentials(t *testing.T) {
	l := startLive(t)
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"s3", "--endpoint", l.srv.URL, "--insecure", "--op", "get", "--objects", "3",
		"--concurrency", "1", "--duration", "1s", "--json"}, &stdout, &stderr,
		env(map[string]string{"AWS_ACCESS_KEY_ID": testAccessKey, "AWS_SECRET_ACCESS_KEY": testSecretKey}))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || len(rep.Operations) != 1 || rep.Operations[0].Count == 0 {
		t.Errorf("report %s (%v)", stdout.String(), err)
	}
}

func TestS3LiveReuseBucket(t *testing.T) {
	l := startLive(t)
	ctx := context.Background()
	bucket := "mine"
	if _, err := l.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		out, err := l.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			if !strings.HasPrefix(aws.ToString(o.Key), "coffer-bench-") {
				t.Errorf("key %q outside the run's prefix", aws.ToString(o.Key))
			}
		}
		return len(out.Contents)
	}
	t.Run("keep", func(t *testing.T) {
		l.runJSON(t, l.args("s3", "--bucket", bucket, "--keep", "--op", "get", "--objects", "5", "--concurrency", "1", "--duration", "1s"))
		if n := count(); n != 5 {
			t.Errorf("%d objects kept, want the 5 preloaded", n)
		}
	})
	t.Run("clean up only the run's objects", func(t *testing.T) {
		l.runJSON(t, l.args("s3", "--bucket", bucket, "--op", "put", "--concurrency", "2", "--duration", "1s"))
		if n := count(); n != 5 {
			t.Errorf("%d objects after a run without --keep, want the 5 of the earlier run", n)
		}
		if b := l.buckets(t); len(b) != 1 || b[0] != bucket {
			t.Errorf("buckets %v, want only %s", b, bucket)
		}
	})
	t.Run("reuse the objects of an earlier run", func(t *testing.T) {
		const prefix = "coffer-bench-reuse/"
		l.runJSON(t, l.args("s3", "--bucket", bucket, "--prefix", prefix, "--keep", "--op", "get", "--size", "1KiB", "--objects", "3", "--concurrency", "1", "--duration", "1s"))
		rep := l.runJSON(t, l.args("s3", "--bucket", bucket, "--prefix", prefix, "--reuse", "--op", "get", "--size", "1KiB", "--objects", "3", "--concurrency", "2", "--duration", "1s"))
		if get := rep.Operations[0]; get.Operation != "GET" || get.Count == 0 || get.Errors != 0 {
			t.Errorf("reused GETs: %+v", get)
		}
		if n := count(); n != 8 {
			t.Errorf("%d objects after a --reuse run, want the 5 + 3 of the earlier runs", n)
		}
	})
}

func TestS3LiveFailures(t *testing.T) {
	l := startLive(t)
	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"every request fails", l.args("s3", "--bucket", "no-such-bucket", "--concurrency", "1", "--duration", "1s"),
			[]string{"every request failed: PUT", "NoSuchBucket"}},
		{"preload fails", l.args("s3", "--bucket", "no-such-bucket", "--op", "get", "--duration", "1s"),
			[]string{"preload", "NoSuchBucket"}},
		{"wrong secret", append(l.args("s3", "--duration", "1s"), "--secret-key", "wrong"),
			[]string{"create bucket", "SignatureDoesNotMatch"}},
		{"untrusted certificate", []string{"s3", "--endpoint", l.srv.URL, "--access-key", testAccessKey, "--secret-key", testSecretKey, "--duration", "1s"},
			[]string{"create bucket", "certificate"}},
		{"missing ca file", l.args("s3", "--ca-cert", "/nonexistent.pem", "--duration", "1s"),
			[]string{"--ca-cert", "no such file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := l.run(t, tc.args)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr: %s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q: %s", w, errOut)
				}
			}
			if strings.Contains(errOut, testSecretKey) {
				t.Error("stderr shows the secret key")
			}
		})
	}
}
