package audit

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// journals lists the journal segments under dir.
func journals(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, journalDir, "*"+journalExt))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func countdown(from, n int) []int {
	out := make([]int, 0, n)
	for i := from + n - 1; i >= from; i-- {
		out = append(out, i)
	}
	return out
}

// TestRecoverJournal opens copies of a Writer's directory taken while it runs (what a kill -9
// leaves), each journal damaged as a crash can, and checks what Open recovers: every intact
// record, in a finished log file; no journal left; a chain that verifies.
func TestRecoverJournal(t *testing.T) {
	live := t.TempDir()
	clk := newClock()
	w := openTest(t, live, clk)
	defer w.Close(context.Background())
	record(t, w, 0, 3)
	if err := w.Roll(context.Background()); err != nil {
		t.Fatal(err)
	}
	record(t, w, 3, 5) // 3..7 in the journal
	finished, err := w.LogFiles("")
	if err != nil || len(finished) != 1 {
		t.Fatalf("LogFiles = %v, %v", finished, err)
	}
	cases := []struct {
		name   string
		damage func(t *testing.T, journal string)
		want   []int
	}{
		{"killed without Close", func(*testing.T, string) {}, countdown(0, 8)},
		{"last frame's payload torn", func(t *testing.T, j string) { truncateTo(t, j, framesEnd(t, j)-3) }, countdown(0, 7)},
		{"last frame's header torn", func(t *testing.T, j string) { truncateTo(t, j, framesEnd(t, j)-int64(len(frameOf(t, j, 4)))+5) }, countdown(0, 7)},
		{"no preallocated zeros after the last frame", func(t *testing.T, j string) { truncateTo(t, j, framesEnd(t, j)) }, countdown(0, 8)},
		{"garbage after the last frame", func(t *testing.T, j string) { writeAt(t, j, framesEnd(t, j), []byte("\x00\x00\x01\x00garbage")) }, countdown(0, 8)},
		{"a byte of the last record never reached the disk", func(t *testing.T, j string) { flipByte(t, j, framesEnd(t, j)-2) }, countdown(0, 7)},
		{"a record in the middle damaged: the rest dropped", func(t *testing.T, j string) {
			flipByte(t, j, int64(len(journalMagic)+frameHeader+2))
		}, countdown(0, 3)},
		{"cut inside its header", func(t *testing.T, j string) { truncateTo(t, j, 3) }, countdown(0, 3)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, live, dir)
			js := journals(t, dir)
			if len(js) != 1 {
				t.Fatalf("journals %v", js)
			}
			tc.damage(t, js[0])
			w2 := openTest(t, dir, clk)
			if js := journals(t, dir); len(js) != 0 {
				t.Errorf("journals left after Open: %v", js)
			}
			if got := numbers(t, dir); !slices.Equal(got, tc.want) {
				t.Errorf("records %v, want %v", got, tc.want)
			}
			record(t, w2, 100, 1)
			if err := w2.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			verifyClean(t, dir)
		})
	}
	t.Run("journal of a log file finished before the crash", func(t *testing.T) {
		dir := t.TempDir()
		copyTree(t, live, dir)
		j := journals(t, dir)[0]
		saved, err := os.ReadFile(j)
		if err != nil {
			t.Fatal(err)
		}
		openTest(t, dir, clk) // finishes the journal into a log file (and is left running)
		if err := os.WriteFile(j, saved, 0o600); err != nil {
			t.Fatal(err)
		}
		w3 := openTest(t, dir, clk)
		if got := numbers(t, dir); !slices.Equal(got, countdown(0, 8)) {
			t.Errorf("records %v, want each once: %v", got, countdown(0, 8))
		}
		if js := journals(t, dir); len(js) != 0 {
			t.Errorf("journals left: %v", js)
		}
		w3.Close(context.Background())
	})
	t.Run("not a journal", func(t *testing.T) {
		dir := t.TempDir()
		copyTree(t, live, dir)
		if err := os.WriteFile(journals(t, dir)[0], []byte("something else entirely"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), Config{Dir: dir, Signer: testSigner(t, dir, "test-key.pem")})
		if err == nil {
			t.Fatal("Open accepted a journal that is not one")
		}
	})
}

// TestChainAcrossRestarts closes and reopens a Writer several times, with and without
// records, and hours apart: every Close leaves a final digest and the chain verifies whole.
func TestChainAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	for i := range 4 {
		// The test clock jumps while the Writer runs: with the hourly period, whether the
		// writer goroutine notices the jump (and writes a periodic digest) before Close would
		// depend on scheduling. Only the final digests are wanted here.
		w := openTest(t, dir, clk, func(c *Config) { c.DigestEvery = 24 * time.Hour })
		if i%2 == 0 {
			record(t, w, i*10, 3)
		}
		clk.Add(90 * time.Minute)
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		names, err := listDigests(dir)
		if err != nil || len(names) != i+1 {
			t.Fatalf("after run %d: digests %v, %v", i, names, err)
		}
		_, d, _, err := readDigest(dir, names[i])
		if err != nil {
			t.Fatal(err)
		}
		if (len(d.LogFiles) == 1) != (i%2 == 0) {
			t.Errorf("run %d: final digest lists %d log files", i, len(d.LogFiles))
		}
		if (d.PreviousDigestS3Object == nil) != (i == 0) {
			t.Errorf("run %d: previousDigestS3Object %v", i, d.PreviousDigestS3Object)
		}
	}
	rep := verifyClean(t, dir)
	if rep.Digests != 4 || rep.LogFiles != 2 {
		t.Errorf("checked %d digests, %d log files; want 4, 2", rep.Digests, rep.LogFiles)
	}
}

// TestDigestEveryPeriod lets the Writer's own timer write digests, with nothing recorded (as
// CloudTrail writes hourly digests with no log files).
func TestDigestEveryPeriod(t *testing.T) {
	dir := t.TempDir()
	w := openTest(t, dir, &clock{t: time.Now()}, func(c *Config) { c.Now = time.Now; c.DigestEvery = 1100 * time.Millisecond })
	deadline := time.Now().Add(10 * time.Second)
	for {
		names, err := listDigests(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(names) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("digests after 10 s: %v", names)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	verifyClean(t, dir)
}

// TestRollBySizeAndTime finishes log files at RollSize bytes and RollEvery after their first
// record.
func TestRollBySizeAndTime(t *testing.T) {
	t.Run("size", func(t *testing.T) {
		dir := t.TempDir()
		w := openTest(t, dir, newClock(), func(c *Config) { c.RollSize = 2000 })
		record(t, w, 0, 20)                                  // about 600 bytes each
		if err := w.Roll(context.Background()); err != nil { // waits for the roller too
			t.Fatal(err)
		}
		logs, err := w.LogFiles("")
		if err != nil {
			t.Fatal(err)
		}
		if len(logs) < 5 {
			t.Errorf("%d log files for 20 records of ~600 bytes at RollSize 2000", len(logs))
		}
		if after, _ := w.LogFiles(logs[1].Name); len(after) != len(logs)-2 {
			t.Errorf("LogFiles(second) = %d files, want %d", len(after), len(logs)-2)
		}
		w.Close(context.Background())
		verifyClean(t, dir)
	})
	t.Run("time", func(t *testing.T) {
		dir := t.TempDir()
		w := openTest(t, dir, nil, func(c *Config) { c.Now = time.Now; c.RollEvery = 200 * time.Millisecond })
		record(t, w, 0, 1)
		deadline := time.Now().Add(10 * time.Second)
		for len(journals(t, dir)) > 0 {
			if time.Now().After(deadline) {
				t.Fatal("the log file was not finished on time")
			}
			time.Sleep(20 * time.Millisecond)
		}
		logs, err := w.LogFiles("")
		if err != nil || len(logs) != 1 {
			t.Fatalf("LogFiles = %v, %v", logs, err)
		}
		w.Close(context.Background())
	})
}

func verifyClean(t *testing.T, dir string) *Report {
	t.Helper()
	rep, err := Verify(dir, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) > 0 {
		t.Errorf("findings: %v", rep.Findings)
	}
	return rep
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// framesEnd is where the intact frames of a journal end (zeros follow).
func framesEnd(t *testing.T, p string) int64 {
	t.Helper()
	jr, err := readJournal(p)
	if err != nil {
		t.Fatal(err)
	}
	return jr.valid
}

func truncateTo(t *testing.T, p string, n int64) {
	t.Helper()
	if err := os.Truncate(p, n); err != nil {
		t.Fatal(err)
	}
}

func writeAt(t *testing.T, p string, at int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, p string, at int64) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[at] ^= 0x40
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// frameOf returns the bytes of frame i (header and payload) of a journal.
func frameOf(t *testing.T, p string, i int) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	jr, err := parseJournal(b)
	if err != nil || i >= len(jr.records) {
		t.Fatalf("frame %d of %s: %v", i, p, err)
	}
	return appendFrame(nil, jr.records[i])
}

// TestRollFailure makes finishing a log file fail (a file stands where its day directory
// goes): the records stay readable from memory and the journal, Digest fails, and once the
// obstacle is gone the next Digest finishes the log file and the chain verifies.
func TestRollFailure(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	w := openTest(t, dir, clk)
	blocker := filepath.Join(dir, logsDir, clk.Now().Format("2006"))
	if err := os.WriteFile(blocker, []byte("in the way"), 0o600); err != nil {
		t.Fatal(err)
	}
	record(t, w, 0, 3)
	if err := w.Digest(context.Background()); err == nil {
		t.Fatal("Digest succeeded though the log file could not be written")
	}
	seen := eventNumbers(t, w)
	if !slices.Equal(seen, countdown(0, 3)) {
		t.Errorf("Events after a failed roll = %v", seen)
	}
	if len(journals(t, dir)) != 1 {
		t.Error("the journal of the log file not finished is gone")
	}
	record(t, w, 3, 1) // records go on meanwhile
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	if err := w.Digest(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := numbers(t, dir); !slices.Equal(got, countdown(0, 4)) {
		t.Errorf("records %v", got)
	}
	if rep := verifyClean(t, dir); rep.LogFiles != 2 {
		t.Errorf("%d log files checked, want 2", rep.LogFiles)
	}
}
