package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/server"
)

// A damaged data directory: built once by a real server (objects with blobs and inline, an
// upload in progress, KMS keys and an alias), copied for each trial, damaged at a chosen place
// or at random, then started in a child process. The server must refuse with a clear message
// or serve with the damaged item failing clearly; no blob is ever removed, and nothing crashes.

const damageBucket = "dmg"

// damageBase is the data directory every trial copies.
type damageBase struct {
	dir  string
	keys []string // object keys
	kms  []string // KMS key ids
}

var (
	baseOnce sync.Once
	base     damageBase
	baseErr  error
)

func damageFixture(t *testing.T) damageBase {
	t.Helper()
	baseOnce.Do(func() { base, baseErr = buildDamageBase() })
	if baseErr != nil {
		t.Fatal(baseErr)
	}
	return base
}

func buildDamageBase() (damageBase, error) {
	dir, err := os.MkdirTemp("", "coffer-damage-base-")
	if err != nil {
		return damageBase{}, err
	}
	b := damageBase{dir: dir}
	srv, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", Region: "us-east-1", AccessKey: testAccessKey, SecretKey: testSecretKey})
	if err != nil {
		return b, err
	}
	e := &env{t: nil, dir: dir, srv: srv, region: "us-east-1"}
	e.s3 = e.client(testAccessKey, testSecretKey, nil)
	c := context.Background()
	if _, err := e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String(damageBucket)}); err != nil {
		return b, err
	}
	for i := range 10 {
		size := 20 << 10 // a blob
		if i >= 8 {
			size = 100 // inline
		}
		key := fmt.Sprintf("obj-%02d", i)
		if _, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(damageBucket), Key: aws.String(key), Body: bytes.NewReader(randomBytes(uint64(i), size))}); err != nil {
			return b, err
		}
		b.keys = append(b.keys, key)
	}
	up, err := e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String(damageBucket), Key: aws.String("mp")})
	if err != nil {
		return b, err
	}
	if _, err := e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String(damageBucket), Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(randomBytes(99, 20<<10))}); err != nil {
		return b, err
	}
	kc := e.kms()
	for i := range 3 {
		k, err := kc.CreateKey(c, &kms.CreateKeyInput{Description: aws.String(fmt.Sprint("damage key ", i))})
		if err != nil {
			return b, err
		}
		b.kms = append(b.kms, *k.KeyMetadata.KeyId)
	}
	if _, err := kc.CreateAlias(c, &kms.CreateAliasInput{AliasName: aws.String("alias/damage"), TargetKeyId: aws.String(b.kms[0])}); err != nil {
		return b, err
	}
	sc, cancel := context.WithTimeout(c, 10*time.Second)
	defer cancel()
	return b, srv.Shutdown(sc)
}

// copyDir copies a data directory (regular files and directories).
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(to, info.Mode().Perm())
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// blobFiles lists the blob files under dir.
func blobFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(dir, "blobs", "blobs")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// outcome is what a damaged directory did on start.
type outcome struct {
	refused string // the message of a refused start ("" if it served)
	e       *env   // clients of the serving child
	stop    func() // kills the child; fails the test if it had died before
}

// startDamaged starts a child server on dir and waits until it refused or finished its sweep.
func startDamaged(t *testing.T, dir string) outcome {
	t.Helper()
	bin, err := damagedChild()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 2)
	go func() {
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			lines <- line
		}
	}()
	go func() { exited <- cmd.Wait() }()
	crashed := func(err error) {
		t.Fatalf("child server died (%v):\n%s\n...\n%s", err, firstLines(stderr.String(), 40), lastLines(stderr.String(), 10))
	}
	line, ok := <-lines
	if !ok {
		err := <-exited
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 {
			crashed(err)
		}
		return outcome{refused: strings.TrimSpace(stderr.String())}
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "URL" {
		cmd.Process.Kill()
		t.Fatalf("child said %q", line)
	}
	select {
	case l := <-lines:
		if strings.TrimSpace(l) != "SWEPT" {
			t.Fatalf("child said %q", l)
		}
	case err := <-exited:
		crashed(err)
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("sweep did not finish")
	}
	e := &env{t: t, dir: dir, srv: &server.Server{URL: f[1], CertFile: f[2]}, region: "us-east-1"}
	e.s3 = e.client(testAccessKey, testSecretKey, nil)
	stop := func() {
		select {
		case err := <-exited:
			crashed(err)
		default:
		}
		cmd.Process.Kill()
		<-exited
	}
	return outcome{e: e, stop: stop}
}

// firstLines returns the first n lines of s: where a Go crash names its cause and the
// goroutine that crashed.
func firstLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[:min(n, len(l))], "\n")
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// readResult is what reading everything back through the API gave.
type readResult struct {
	objectsOK, objectsFailed int
	keysOK, keysFailed       int
	failures                 []string // code/status of each failure
}

// readEverything reads the bucket, every object and every KMS key. Every failure must be an
// AWS-shaped error (a response with a code), never a broken connection.
func readEverything(t *testing.T, e *env, b damageBase) readResult {
	t.Helper()
	c := ctx(t)
	var r readResult
	apiFailure := func(what string, err error) {
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("%s: not an AWS error: %v", what, err)
		}
		r.failures = append(r.failures, what+": "+ae.ErrorCode())
	}
	if _, err := e.s3.ListBuckets(c, &s3.ListBucketsInput{}); err != nil {
		apiFailure("ListBuckets", err)
	}
	if _, err := e.s3.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String(damageBucket)}); err != nil {
		apiFailure("ListObjectsV2", err)
	}
	for _, key := range b.keys {
		out, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(damageBucket), Key: aws.String(key)})
		if err == nil {
			_, err = io.Copy(io.Discard, out.Body)
			out.Body.Close()
			if err != nil {
				// A body cut short is how a failure after the headers shows: allowed, counted.
				r.failures = append(r.failures, "GetObject "+key+": body: "+err.Error())
				r.objectsFailed++
				continue
			}
			r.objectsOK++
			continue
		}
		apiFailure("GetObject "+key, err)
		r.objectsFailed++
	}
	kc := kms.New(e.kms().Options(), func(o *kms.Options) { o.RetryMaxAttempts = 1 })
	if _, err := kc.ListKeys(c, &kms.ListKeysInput{}); err != nil {
		apiFailure("ListKeys", err)
	}
	for _, id := range b.kms {
		_, err := kc.Encrypt(c, &kms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
		if err != nil {
			apiFailure("Encrypt "+id, err)
			r.keysFailed++
			continue
		}
		r.keysOK++
	}
	return r
}

// flipAll changes byte i of every occurrence of name in the file to c.
func flipAll(t *testing.T, path, name string, i int, c byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := bytes.Count(data, []byte(name))
	if n == 0 {
		t.Fatalf("%q not found in %s", name, path)
	}
	for off := 0; ; {
		j := bytes.Index(data[off:], []byte(name))
		if j < 0 {
			break
		}
		data[off+j+i] = c
		off += j + len(name)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// flipAt xors one byte of a file.
// isBranchPage reports whether the bbolt page at off is a branch page (flags 0x01).
func isBranchPage(t *testing.T, path string, off int64) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [2]byte
	if _, err := f.ReadAt(b[:], off+8); err != nil {
		t.Fatal(err)
	}
	return b[0]&0x01 != 0
}

// firstLeafPage follows the first child of each branch page from the page at off down to a
// leaf, and returns the leaf's offset (bbolt's layout: a 16-byte page header, then branch
// elements of pos, ksize (4 bytes each) and the child's page id (8 bytes)).
func firstLeafPage(t *testing.T, path string, off int64) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for isBranchPage(t, path, off) {
		var id [8]byte
		if _, err := f.ReadAt(id[:], off+16+8); err != nil {
			t.Fatal(err)
		}
		off = int64(binary.LittleEndian.Uint64(id[:])) * int64(os.Getpagesize())
	}
	return off
}

func flipAt(t *testing.T, path string, off int64, x byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= x
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

// withDB runs fn on the trial's meta.db opened by bbolt itself, to model damage of a value.
func withDB(t *testing.T, dir string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// objectPage returns the file offset of the root page of the damage bucket's object index.
func objectPage(t *testing.T, dir string) int64 {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var off int64
	db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket([]byte("s3.buckets")).Bucket([]byte(damageBucket)).Bucket([]byte("o")).Root()
		off = int64(root) * int64(db.Info().PageSize)
		return nil
	})
	if off == 0 {
		t.Fatal("the object index is inline in its parent page")
	}
	return off
}

// damagedChild is the program that serves a damaged directory: this test binary (see
// TestMain), or, when it is built with -race, a copy built without it. -race turns on checkptr,
// which makes bbolt's pointer arithmetic over a deliberately damaged page a fatal error no
// recover can catch — the failure the damage tests look for in a shipped (checkptr-free)
// binary is a crash, and checkptr would report one where the binary refuses or serves.
var damagedChild = sync.OnceValues(func() (string, error) {
	if !raceEnabled {
		return os.Args[0], nil
	}
	bin := filepath.Join(binDir, "integration.test")
	out, err := exec.Command("go", "test", "-c", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building the damage child without -race: %v\n%s", err, out)
	}
	return bin, nil
})

// checkDamaged runs the admin check on a damaged directory: in this process, or under -race in
// the damagedChild (see there: checkptr would turn a damaged page into a fatal error here).
func checkDamaged(t *testing.T, dir string) server.CheckReport {
	t.Helper()
	if !raceEnabled {
		rep, err := server.Check(context.Background(), dir, "")
		if err != nil {
			t.Fatalf("admin check: %v", err)
		}
		return rep
	}
	bin, err := damagedChild()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), checkChildEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("admin check: %v\n%s", err, firstLines(stderr.String(), 40))
	}
	var rep server.CheckReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("admin check report %q: %v", out, err)
	}
	return rep
}
