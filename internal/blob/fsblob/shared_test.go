package fsblob_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/blobtest"
	"github.com/coffer/coffer/internal/blob/fsblob"
)

func newShared(t testing.TB, dir string) *fsblob.Store {
	t.Helper()
	s, err := fsblob.NewShared(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSharedConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newShared(t, t.TempDir()) })
}

// TestSharedNodes runs the shared-store cases with two Stores on one directory.
func TestSharedNodes(t *testing.T) {
	blobtest.RunShared(t, func(t *testing.T) (blob.Store, blob.Store) {
		dir := t.TempDir()
		return newShared(t, dir), newShared(t, dir)
	})
}

// TestSharedKeepsLiveTempFiles checks that opening a shared store leaves other writers' temp
// files alone and removes only those idle past TempGrace.
func TestSharedKeepsLiveTempFiles(t *testing.T) {
	dir := t.TempDir()
	s := newShared(t, dir)
	tmp := filepath.Join(dir, "tmp")
	write := func(name string, age time.Duration) {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte("in flight"), 0o600); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
	}
	write("put-otherhost-1-live", time.Minute)
	write("put-otherhost-2-dead", fsblob.TempGrace+time.Minute)
	left := func() string {
		ents, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return strings.Join(names, ",")
	}
	newShared(t, dir) // another node starts
	if got := left(); got != "put-otherhost-1-live" {
		t.Fatalf("temp files after NewShared: %q, want only the live one", got)
	}
	var janitor blob.Janitor = s // as a server sharing the directory calls it
	if n, err := janitor.Clean(context.Background(), time.Now().Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("Clean(now) removed %d, err %v; want 1", n, err)
	}
	if got := left(); got != "" {
		t.Fatalf("temp files after SweepTemp(now): %q, want none", got)
	}
}

// The two-process test re-runs this test binary as racing writers on one directory. Each
// child waits for the go file, puts raceNames names with its own bytes, and prints
// "won <name>" for each Put that succeeded.
const (
	raceDirEnv  = "COFFER_FSBLOB_RACE_DIR"
	raceNodeEnv = "COFFER_FSBLOB_RACE_NODE"
	raceNames   = 200
)

func raceBody(node, i int) []byte {
	r := rand.New(rand.NewPCG(uint64(node), uint64(i)))
	b := make([]byte, 1000+r.IntN(100<<10))
	for j := range b {
		b[j] = byte(r.Uint32())
	}
	return b
}

func TestSharedTwoProcesses(t *testing.T) {
	if dir := os.Getenv(raceDirEnv); dir != "" {
		raceChild(t, dir, os.Getenv(raceNodeEnv))
		return
	}
	if testing.Short() {
		t.Skip("the race test re-executes the binary")
	}
	dir := t.TempDir()
	newShared(t, dir)
	var cmds [2]*exec.Cmd
	var outs [2]*bytes.Buffer
	for node := range cmds {
		cmds[node] = exec.Command(os.Args[0], "-test.run=^TestSharedTwoProcesses$", "-test.count=1", "-test.v")
		cmds[node].Env = append(os.Environ(), raceDirEnv+"="+dir, fmt.Sprintf("%s=%d", raceNodeEnv, node))
		outs[node] = new(bytes.Buffer)
		cmds[node].Stdout, cmds[node].Stderr = outs[node], outs[node]
		if err := cmds[node].Start(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	winner := map[string]int{}
	for node, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("node %d: %v\n%s", node, err, outs[node])
		}
		sc := bufio.NewScanner(outs[node])
		for sc.Scan() {
			name, ok := strings.CutPrefix(sc.Text(), "won ")
			if !ok {
				continue
			}
			if w, dup := winner[name]; dup {
				t.Fatalf("%s: both node %d and node %d won", name, w, node)
			}
			winner[name] = node
		}
	}
	if len(winner) != raceNames {
		t.Fatalf("%d names won, want %d (each by one node)", len(winner), raceNames)
	}
	s := newShared(t, dir)
	wins := [2]int{}
	for i := range raceNames {
		name := fmt.Sprintf("race/%02x/%d", i%16, i)
		w := winner[name]
		wins[w]++
		r, err := s.Open(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, r.Size())
		_, err = r.ReadAt(got, 0)
		r.Close()
		if err != nil || !bytes.Equal(got, raceBody(w, i)) {
			t.Fatalf("%s: not node %d's bytes (err %v)", name, w, err)
		}
	}
	t.Logf("names won: node 0 %d, node 1 %d", wins[0], wins[1])
	if ents, err := os.ReadDir(filepath.Join(dir, "tmp")); err != nil || len(ents) != 0 {
		t.Fatalf("temp files left: %d (err %v)", len(ents), err)
	}
}

func raceChild(t *testing.T, dir, node string) {
	var n int
	fmt.Sscan(node, &n)
	s := newShared(t, dir)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "go")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no go signal")
		}
	}
	for i := range raceNames {
		name := fmt.Sprintf("race/%02x/%d", i%16, i)
		_, err := s.Put(context.Background(), name, bytes.NewReader(raceBody(n, i)))
		switch {
		case err == nil:
			fmt.Printf("won %s\n", name)
		case !errors.Is(err, blob.ErrExists):
			t.Fatalf("Put %s: %v", name, err)
		}
	}
}
