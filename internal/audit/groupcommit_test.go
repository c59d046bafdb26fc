package audit

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestGroupCommit records from many goroutines at once (run it with -race): every record is
// kept once, and records that arrive together share an fsync.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, newClock(), func(c *Config) { c.RollSize = 64 << 10 })
	const writers, each = 32, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if err := w.Record(context.Background(), sampleEvent(g*each+i)); err != nil {
					errs <- err
				}
			}
		})
	}
	// Events and LogFiles run meanwhile, as LookupEvents and trail delivery do: while log
	// files are finished, Events sees each record once.
	wg.Go(func() {
		for range 20 {
			seen := map[int]bool{}
			if err := w.Events(context.Background(), Filter{EventName: "Decrypt"}, func(e *Event) bool {
				n := int(e.RequestParameters["n"].(float64))
				if seen[n] {
					errs <- fmt.Errorf("Events gave record %d twice", n)
				}
				seen[n] = true
				return true
			}); err != nil {
				errs <- err
			}
			if _, err := w.LogFiles(""); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	syncs := w.syncs.Load()
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := numbers(t, dir)
	slices.Sort(got)
	want := make([]int, writers*each)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%d records kept, want each of %d once", len(got), len(want))
	}
	if syncs >= writers*each {
		t.Errorf("%d fsyncs for %d records: no group commit", syncs, writers*each)
	}
	t.Logf("%d records, %d fsyncs", writers*each, syncs)
	verifyClean(t, dir)
}

// BenchmarkRecord measures Record from parallel goroutines (-cpu sets how many; RunParallel
// runs GOMAXPROCS of them, raised with SetParallelism): each returns only once its record is
// fsynced.
func BenchmarkRecord(b *testing.B) {
	for _, par := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("goroutines=%dxGOMAXPROCS", par), func(b *testing.B) {
			dir := b.TempDir()
			w := openTest(b, dir, newClock())
			defer w.Close(context.Background())
			e := sampleEvent(1)
			b.SetParallelism(par)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ev := *e
					ev.EventID = ""
					if err := w.Record(context.Background(), &ev); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/float64(max(w.syncs.Load(), 1)), "records/fsync")
		})
	}
}

// childWriterEnv makes TestChildWriter act as a process that records until it is killed.
const childWriterEnv = "COFFER_AUDIT_CHILD_DIR"

// TestChildWriter is the child of TestKilledWriter: it records from 8 goroutines, printing
// "ack N" once record N is acknowledged, until it is killed.
func TestChildWriter(t *testing.T) {
	dir := os.Getenv(childWriterEnv)
	if dir == "" {
		t.Skip("run by TestKilledWriter")
	}
	w := openTest(t, dir, &clock{}, func(c *Config) { c.Now = time.Now; c.RollSize = 16 << 10 })
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; ; i += 8 {
				if err := w.Record(context.Background(), sampleEvent(i)); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %d\n", i)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestKilledWriter kills (SIGKILL) a process while it records from 8 goroutines and rolls log
// files every 16 KiB, then opens its directory: every record it acknowledged is there, and
// after Close the chain verifies.
func TestKilledWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	for round := range 3 {
		t.Run(strconv.Itoa(round), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestChildWriter$")
			cmd.Env = append(os.Environ(), childWriterEnv+"="+dir)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			acked := map[int]bool{}
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if n, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
					i, _ := strconv.Atoi(n)
					acked[i] = true
				}
				if len(acked) == 300+round*200 {
					cmd.Process.Signal(syscall.SIGKILL)
				}
			}
			cmd.Wait()
			if len(acked) < 300 {
				t.Fatalf("the child acknowledged only %d records", len(acked))
			}
			w := openTest(t, dir, &clock{}, func(c *Config) { c.Now = time.Now })
			kept := map[int]bool{}
			for _, n := range numbers(t, dir) {
				if kept[n] {
					t.Errorf("record %d kept twice", n)
				}
				kept[n] = true
			}
			for n := range acked {
				if !kept[n] {
					t.Errorf("acknowledged record %d lost", n)
				}
			}
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			verifyClean(t, dir)
			logs, _ := filepath.Glob(filepath.Join(dir, logsDir, "*", "*", "*", "*"+logExt))
			t.Logf("%d acknowledged, %d kept, %d log files", len(acked), len(kept), len(logs))
		})
	}
}
