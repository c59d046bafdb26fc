package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestServerStartsFromConfigFile starts `coffer server --config FILE` with every setting and
// the root key's files given by the file, as systemd would (Type=notify): it says READY=1 on
// $NOTIFY_SOCKET once serving, answers an S3 client signing with the key of the files, and
// says STOPPING=1 on SIGTERM.
func TestServerStartsFromConfigFile(t *testing.T) {
	const accessKey, secretKey = "AKIACONFIGFILEKEY001", "configFileSecretKey0123456789abcdefghijk"
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	config := writeFile(t, "coffer.toml", `
data = "`+data+`"
listen = "127.0.0.1:0"
region = "eu-west-3"
log-level = "warn"
audit-fsync = "always"
access-key-file = "`+writeFile(t, "access-key", accessKey+"\n", 0o600)+`"
secret-key-file = "`+writeFile(t, "secret-key", secretKey+"\n", 0o400)+`"
`, 0o640)

	notify := filepath.Join(dir, "notify.sock")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	env := envOf(map[string]string{"NOTIFY_SOCKET": notify})

	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run([]string{"server", "--config", config}, &out, &errb, env) }()
	if got := readNotify(t, sock); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1; stderr %q", got, errb.String())
	}

	var endpoint string
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "endpoint:" {
			endpoint = f[1]
		}
	}
	if !strings.HasPrefix(endpoint, "https://127.0.0.1:") {
		t.Fatalf("no endpoint in the banner:\n%s", out.String())
	}
	pem, err := os.ReadFile(filepath.Join(data, "tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	client := s3.New(s3.Options{
		Region:       "eu-west-3",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("from-config"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-3"}}); err != nil {
		t.Fatalf("CreateBucket with the key of the files: %v", err)
	}
	list, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(list.Buckets) != 1 || aws.ToString(list.Buckets[0].Name) != "from-config" {
		t.Fatalf("ListBuckets = %+v, %v", list, err)
	}
	if strings.Contains(out.String()+errb.String(), secretKey) {
		t.Fatalf("the output shows the secret key:\n%s\n%s", out.String(), errb.String())
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := readNotify(t, sock); got != "STOPPING=1" {
		t.Fatalf("notification on SIGTERM %q, want STOPPING=1", got)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after SIGTERM; stderr %q", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
}

// readNotify returns the next datagram sent to the notify socket.
func readNotify(t *testing.T, sock *net.UnixConn) string {
	t.Helper()
	if err := sock.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	n, err := sock.Read(buf)
	if err != nil {
		t.Fatalf("reading the notify socket: %v", err)
	}
	return string(buf[:n])
}
