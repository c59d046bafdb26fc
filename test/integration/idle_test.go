package integration

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/server"
)

// TestStalledBodyIsCut: a client that stops sending its body mid-way is disconnected after the
// idle timeout and nothing is stored; one that keeps sending, however slowly, is not.
func TestStalledBodyIsCut(t *testing.T) {
	const idle = 300 * time.Millisecond
	srv, err := server.Start(server.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", Region: "us-east-1",
		AccessKey: testAccessKey, SecretKey: testSecretKey, BodyIdleTimeout: idle})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(c)
	}()
	e := &env{t: t, srv: srv, region: "us-east-1"}
	e.s3 = e.client(testAccessKey, testSecretKey, nil)
	c := ctx(t)
	newBucket(t, e, "idle")

	// A signed PUT of 1000 bytes with UNSIGNED-PAYLOAD, of which the client sends 10.
	send := func(t *testing.T, key string, pace func(w io.Writer)) (string, time.Duration) {
		req, _ := http.NewRequest("PUT", srv.URL+"/idle/"+key, nil)
		req.ContentLength = 1000
		conn := e.sendHeaders(t, req, "s3", testSecretKey)
		start := time.Now()
		pace(conn)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		status, _ := bufio.NewReader(conn).ReadString('\n')
		return status, time.Since(start)
	}
	t.Run("stalled", func(t *testing.T) {
		status, took := send(t, "stalled", func(w io.Writer) { w.Write(make([]byte, 10)) })
		if strings.Contains(status, "200") || took > 5*time.Second {
			t.Fatalf("stalled upload: status %q after %v", status, took)
		}
		_, err := e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("idle"), Key: aws.String("stalled")})
		wantAPIError(t, err, "NotFound", 404)
	})
	t.Run("slow but steady", func(t *testing.T) {
		status, _ := send(t, "steady", func(w io.Writer) {
			for range 10 { // 100 bytes every idle/3: 1 s in all, three times the idle timeout
				w.Write(make([]byte, 100))
				time.Sleep(idle / 3)
			}
		})
		if !strings.Contains(status, "200") {
			t.Fatalf("steady upload: %q", status)
		}
	})
}
