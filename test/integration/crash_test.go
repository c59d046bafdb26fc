package integration

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer/coffer/internal/server"
)

// crashChildEnv makes the test binary act as a server process (see TestMain) so the crash
// test can kill it with SIGKILL.
const crashChildEnv = "COFFER_TEST_SERVER_DIR"

// checkChildEnv makes the test binary run `coffer admin check` on a directory and print its
// report as JSON (see checkDamaged).
const checkChildEnv = "COFFER_TEST_CHECK_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		srv, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", Region: "us-east-1", AccessKey: testAccessKey, SecretKey: testSecretKey})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child server:", err)
			os.Exit(3)
		}
		fmt.Println("URL", srv.URL, srv.CertFile)
		<-srv.Swept()
		fmt.Println("SWEPT")
		select {} // until killed
	}
	if dir := os.Getenv(checkChildEnv); dir != "" {
		rep, err := server.Check(context.Background(), dir, "")
		if err != nil {
			fmt.Fprintln(os.Stderr, "admin check:", err)
			os.Exit(4)
		}
		json.NewEncoder(os.Stdout).Encode(rep)
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "coffer-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binDir holds programs the tests build (see damagedChild); TestMain makes and removes it.
var binDir string

// startChild runs a server process on dir and returns it with an env pointing at it.
func startChild(t *testing.T, dir string) (*exec.Cmd, *env) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("child server did not start: %v", err)
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "URL" {
		t.Fatalf("child said %q", line)
	}
	e := &env{t: t, dir: dir, srv: &server.Server{URL: f[1], CertFile: f[2]}, region: "us-east-1"}
	e.s3 = e.client(testAccessKey, testSecretKey, nil)
	return cmd, e
}

// TestCrashDuringUploads kills the server with SIGKILL while eight clients upload, restarts it
// on the same directory, and checks that every acknowledged object is there and intact, that
// every visible object is one some client sent whole, and that no temporary file survived.
func TestCrashDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	dir := t.TempDir()
	child, e := startChild(t, dir)
	c := ctx(t)
	newBucket(t, e, "crash")

	var (
		mu      sync.Mutex
		acked   = map[string][32]byte{}          // key → content hash of the acknowledged write
		tried   = map[string]map[[32]byte]bool{} // key → every content hash ever sent
		ackedMu sync.WaitGroup
	)
	record := func(key string, sum [32]byte, ok bool) {
		mu.Lock()
		defer mu.Unlock()
		if tried[key] == nil {
			tried[key] = map[[32]byte]bool{}
		}
		tried[key][sum] = true
		if ok {
			acked[key] = sum
		}
	}
	sizes := []int{0, 1 << 10, 100 << 10, 1 << 20, 3 << 20}
	stop := make(chan struct{})
	for w := range 8 {
		ackedMu.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d/%04d", w, i)
				if i%5 == 4 {
					key = "hot" // contended key: every version is whole or absent
				}
				data := randomBytes(uint64(w*100000+i), sizes[r.IntN(len(sizes))])
				sum := sha256.Sum256(data)
				record(key, sum, false)
				var err error
				if w == 7 && i%3 == 0 {
					err = multipartPut(c, e.s3, "crash", key, data, sum)
				} else {
					_, err = e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("crash"), Key: aws.String(key), Body: bytesReader(data)})
				}
				if err != nil {
					return // the server is gone
				}
				record(key, sum, true)
			}
		})
	}
	// Kill after enough acknowledged writes, or a bounded time.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 120 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	close(stop)
	ackedMu.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 20 {
		t.Fatalf("only %d writes acknowledged before the kill; the test proves little", len(acked))
	}
	t.Logf("killed after %d acknowledged writes of %d keys tried", len(acked), len(tried))

	child2, e2 := startChild(t, dir)
	defer func() { child2.Process.Kill(); child2.Wait() }()
	c2 := ctx(t)
	for key, sum := range acked {
		if key == "hot" {
			continue
		}
		got := getHash(t, c2, e2.s3, "crash", key)
		if got != sum {
			t.Errorf("acknowledged object %s lost or changed", key)
		}
	}
	visible := 0
	p := s3.NewListObjectsV2Paginator(e2.s3, &s3.ListObjectsV2Input{Bucket: aws.String("crash")})
	for p.HasMorePages() {
		page := must[*s3.ListObjectsV2Output](t)(p.NextPage(c2))
		for _, o := range page.Contents {
			visible++
			key := aws.ToString(o.Key)
			if !tried[key][getHash(t, c2, e2.s3, "crash", key)] {
				t.Errorf("visible object %s is not any version a client sent (torn or partial)", key)
			}
		}
	}
	if _, ok := acked["hot"]; ok {
		if _, err := e2.s3.HeadObject(c2, &s3.HeadObjectInput{Bucket: aws.String("crash"), Key: aws.String("hot")}); err != nil {
			t.Errorf("acknowledged hot key missing: %v", err)
		}
	}
	t.Logf("%d objects visible after restart", visible)
	tmp, _ := os.ReadDir(filepath.Join(dir, "blobs", "tmp"))
	if len(tmp) != 0 {
		t.Errorf("%d temporary files left after restart", len(tmp))
	}
}

func getHash(t *testing.T, c context.Context, cl *s3.Client, bucket, key string) [32]byte {
	t.Helper()
	out, err := cl.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Errorf("get %s: %v", key, err)
		return [32]byte{}
	}
	defer out.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, out.Body); err != nil {
		t.Errorf("read %s: %v", key, err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// multipartPut uploads data in 5 MiB parts (one part if smaller).
func multipartPut(c context.Context, cl *s3.Client, bucket, key string, data []byte, _ [32]byte) error {
	cu, err := cl.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	var parts []types.CompletedPart
	for n, off := int32(1), 0; off < len(data) || n == 1; n, off = n+1, off+5*mib {
		chunk := data[off:min(off+5*mib, len(data))]
		out, err := cl.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cu.UploadId, PartNumber: aws.Int32(n), Body: bytesReader(chunk)})
		if err != nil {
			return err
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
		if off+5*mib >= len(data) {
			break
		}
	}
	_, err = cl.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	return err
}
