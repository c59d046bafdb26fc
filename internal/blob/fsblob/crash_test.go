package fsblob_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/blob/fsblob"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/boltmeta"
)

// The crash test re-runs this test binary as a child that writes objects the way the object
// layer does (blob first, then its metadata record) and prints "ack <n>" only after both
// returned. The parent SIGKILLs it mid-stream, reopens the directory, and checks that every
// acknowledged object is there and intact, that no metadata points at a missing or torn blob,
// and that the temp file of a write in flight was removed.
const (
	crashDirEnv   = "COFFER_FSBLOB_CRASH_DIR"
	crashStartEnv = "COFFER_FSBLOB_CRASH_START"
	childWorkers  = 4
	childMaxPuts  = 3000 // the child stops by itself even if never killed
)

func TestCrashRecovery(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		start, _ := strconv.Atoi(os.Getenv(crashStartEnv))
		crashChild(dir, start)
		return
	}
	if testing.Short() {
		t.Skip("crash test re-executes the binary")
	}
	dir := t.TempDir()
	acked := map[int]bool{}
	next := 0
	for round, killAfter := range []int{5, 40, 120} {
		t.Run(fmt.Sprintf("round%d-kill-after-%d", round, killAfter), func(t *testing.T) {
			got := runChild(t, dir, next, killAfter)
			for n := range got {
				acked[n] = true
			}
			next += childMaxPuts * 2 // fresh numbers for the next round
			tmp, err := os.ReadDir(filepath.Join(dir, "tmp"))
			if err != nil || len(tmp) == 0 {
				t.Fatalf("the child's in-flight write left no temp file (err %v); the test is not testing cleanup", err)
			}
			verify(t, dir, acked)
		})
	}
}

// runChild runs one child until it has acknowledged killAfter objects, kills it, and returns
// the acknowledged numbers.
func runChild(t *testing.T, dir string, start, killAfter int) map[int]bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashStartEnv+"="+strconv.Itoa(start))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A bound on the whole run, so a wedged child cannot hang the test.
	watchdog := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer watchdog.Stop()

	acked := map[int]bool{}
	inFlight := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "inflight":
			inFlight = true
		case strings.HasPrefix(line, "ack "):
			n, err := strconv.Atoi(strings.TrimPrefix(line, "ack "))
			if err != nil {
				t.Fatalf("bad child line %q", line)
			}
			acked[n] = true
		case strings.HasPrefix(line, "error "):
			t.Errorf("child: %s", line)
		}
		if inFlight && len(acked) >= killAfter {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	io.Copy(io.Discard, out)
	cmd.Wait()
	if len(acked) < killAfter || !inFlight {
		t.Fatalf("child acknowledged %d objects (in flight: %v) before exiting, want %d", len(acked), inFlight, killAfter)
	}
	return acked
}

// verify reopens dir and checks the stores against the acknowledged objects.
func verify(t *testing.T, dir string, acked map[int]bool) {
	t.Helper()
	ctx := context.Background()
	blobs, err := fsblob.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tmp, err := os.ReadDir(filepath.Join(dir, "tmp")); err != nil || len(tmp) != 0 {
		t.Fatalf("temp dir after reopen: %d entries (err %v), want none", len(tmp), err)
	}
	db, err := boltmeta.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := boltmeta.New(db)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := ms.ListObjects(ctx, "b", meta.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	present := map[int]bool{}
	for _, o := range objs {
		n, err := strconv.Atoi(strings.TrimPrefix(o.Key, "k"))
		if err != nil || len(o.Parts) != 1 {
			t.Fatalf("unexpected object %+v", o)
		}
		present[n] = true
		r, err := blobs.Open(ctx, o.Parts[0].Blob)
		if err != nil {
			t.Fatalf("object %s points at blob %s: %v", o.Key, o.Parts[0].Blob, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, io.NewSectionReader(r, 0, r.Size()))
		r.Close()
		if err != nil || r.Size() != o.Size || hex.EncodeToString(h.Sum(nil)) != o.ETag {
			t.Fatalf("object %s: blob of %d bytes (err %v) does not match its record (%d bytes)", o.Key, r.Size(), err, o.Size)
		}
	}
	for n := range acked {
		if !present[n] {
			t.Fatalf("acknowledged object %d lost", n)
		}
	}
}

// crashBody is the deterministic content of object n.
func crashBody(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 1))
	b := make([]byte, 1+r.IntN(48<<10))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// blockingReader yields some bytes, says so once, then blocks until the process dies.
type blockingReader struct{ once sync.Once }

func (r *blockingReader) Read(p []byte) (int, error) {
	first := false
	r.once.Do(func() { first = true })
	if first {
		clear(p[:1])
		return 1, nil
	}
	fmt.Println("inflight")
	select {}
}

// crashChild writes objects until it is killed or has written childMaxPuts.
func crashChild(dir string, start int) {
	fail := func(err error) { fmt.Println("error", err); os.Exit(1) }
	ctx := context.Background()
	blobs, err := fsblob.New(dir)
	if err != nil {
		fail(err)
	}
	db, err := boltmeta.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		fail(err)
	}
	ms, err := boltmeta.New(db)
	if err != nil {
		fail(err)
	}
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "b"}); err != nil && !errors.Is(err, meta.ErrBucketExists) {
		fail(err)
	}
	// A write that never finishes: its temp file must be gone after the restart.
	go blobs.Put(ctx, fmt.Sprintf("inflight/%d", start), &blockingReader{})

	var mu sync.Mutex // one ack line at a time
	var wg sync.WaitGroup
	for w := range childWorkers {
		wg.Go(func() {
			for i := w; i < childMaxPuts; i += childWorkers {
				n := start + i
				body := crashBody(n)
				name := fmt.Sprintf("%02x/%d", n%64, n)
				if _, err := blobs.Put(ctx, name, strings.NewReader(string(body))); err != nil {
					fail(err)
				}
				sum := sha256.Sum256(body)
				o := meta.Object{Bucket: "b", Key: fmt.Sprintf("k%06d", n), Size: int64(len(body)),
					ETag: hex.EncodeToString(sum[:]), Parts: []meta.Part{{Blob: name, Size: int64(len(body))}}}
				if _, err := ms.PutObject(ctx, o); err != nil {
					fail(err)
				}
				mu.Lock()
				fmt.Println("ack", n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}
