// Package cluster_test runs several Coffer processes sharing one PostgreSQL (internal/pgtest)
// and one blob store, itself a Coffer process on the embedded backend, as operators run them
// behind a load balancer.
package cluster_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/pgtest"
	"github.com/coffer/coffer/internal/server"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	// The root key of the default account every node is given (held in memory only).
	rootAccessKey = "AKIACLUSTERTEST00001"
	rootSecretKey = "clusterTestSecretKey/0123456789abcdefghij"
	// The blob store's own root key: the nodes' credentials for their --blob.
	blobAccessKey = "AKIACLUSTERBLOBS0001"
	blobSecretKey = "clusterBlobSecretKey/0123456789abcdefghij"
	blobBucket    = "coffer-blobs"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// coffer builds ./cmd/coffer once per test binary.
func coffer(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "coffer-cluster-bin-*")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "coffer")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/coffer/coffer/cmd/coffer").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is a running coffer server process.
type process struct {
	name string
	cmd  *exec.Cmd
	url  string
	dir  string
	errs *os.File // its stderr, shown when the test fails
	done chan struct{}
}

// tlsFiles is the one certificate every process serves, so clients trust one file.
type tlsFiles struct{ cert, key string }

// startProcess runs `coffer server` with args on a free loopback port and waits for its
// banner.
func startProcess(t *testing.T, name string, tf tlsFiles, env []string, args ...string) *process {
	t.Helper()
	dir := t.TempDir()
	errs, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"server", "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0",
		"--tls-cert", tf.cert, "--tls-key", tf.key, "--audit-roll", "1s"}, args...)
	cmd := exec.Command(coffer(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = errs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{name: name, cmd: cmd, dir: dir, errs: errs, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "endpoint:"); ok {
				urls <- strings.TrimSpace(u)
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			b, _ := os.ReadFile(errs.Name())
			t.Logf("%s stderr:\n%s", name, tail(string(b), 4000))
		}
		errs.Close()
	})
	select {
	case p.url = <-urls:
	case <-p.done:
		b, _ := os.ReadFile(errs.Name())
		t.Fatalf("%s exited at start:\n%s", name, b)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s gave no banner within a minute", name)
	}
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// stop ends the process with SIGTERM (a clean shutdown), if it is still running.
func (p *process) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		t.Errorf("%s did not stop within 40 s of SIGTERM", p.name)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// kill9 ends the process at once, as a crash would.
func (p *process) kill9() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// deployment is three nodes on one PostgreSQL database and one blob store.
type deployment struct {
	tls   tlsFiles
	blob  *process
	nodes []*process
	hc    *http.Client
}

// startDeployment starts the blob store, then n nodes sharing a fresh database and a
// bucket of the blob store, all given the same KMS root key file.
func startDeployment(t *testing.T, n int) *deployment {
	t.Helper()
	certDir := t.TempDir()
	cert, key, err := server.EnsureCert(certDir)
	if err != nil {
		t.Fatal(err)
	}
	d := &deployment{tls: tlsFiles{cert, key}}
	d.hc = d.httpClient(t)
	d.blob = startProcess(t, "blob store", d.tls, []string{"COFFER_ACCESS_KEY=" + blobAccessKey, "COFFER_SECRET_KEY=" + blobSecretKey}, "--no-audit")
	blobs := d.s3(d.blob, blobAccessKey, blobSecretKey)
	if _, err := blobs.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(blobBucket)}); err != nil {
		t.Fatalf("blob store bucket: %v", err)
	}
	rootKey := filepath.Join(t.TempDir(), "kms-root.key")
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	if err := os.WriteFile(rootKey, k, 0o600); err != nil {
		t.Fatal(err)
	}
	dbURL := pgtest.NewDatabase(t)
	blobURL := fmt.Sprintf("s3://%s/cluster?endpoint=%s&region=us-east-1&ca=%s&path-style=true", blobBucket, d.blob.url, cert)
	env := []string{
		"COFFER_ACCESS_KEY=" + rootAccessKey, "COFFER_SECRET_KEY=" + rootSecretKey,
		"AWS_ACCESS_KEY_ID=" + blobAccessKey, "AWS_SECRET_ACCESS_KEY=" + blobSecretKey,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
	var wg sync.WaitGroup
	d.nodes = make([]*process, n)
	for i := range n {
		wg.Go(func() { // nodes starting together: the migrations and the default account settle once
			d.nodes[i] = startProcess(t, fmt.Sprintf("node %d", i+1), d.tls, env,
				"--meta", dbURL, "--blob", blobURL, "--kms-root-key-file", rootKey)
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return d
}

func (d *deployment) httpClient(t *testing.T) *http.Client {
	pem, err := os.ReadFile(d.tls.cert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 32}}
}

func (d *deployment) awsConfig(ak, sk string) aws.Config {
	tr := d.hc.Transport.(*http.Transport)
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.TLSClientConfig = tr.TLSClientConfig.Clone() // each client its own: HTTP/2 set-up writes NextProtos
			t.MaxIdleConnsPerHost = 32
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		RetryMaxAttempts:           1,
	}
}

func (d *deployment) s3(p *process, ak, sk string) *s3.Client {
	return s3.NewFromConfig(d.awsConfig(ak, sk), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(p.url)
		o.UsePathStyle = true
	})
}

func (d *deployment) kms(p *process) *kms.Client {
	return kms.NewFromConfig(d.awsConfig(rootAccessKey, rootSecretKey), func(o *kms.Options) {
		o.BaseEndpoint = aws.String(p.url)
	})
}

// node's S3 client, as the root of the default account.
func (d *deployment) node(i int) *s3.Client { return d.s3(d.nodes[i], rootAccessKey, rootSecretKey) }
