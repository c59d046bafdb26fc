// Package blobtest is the conformance suite every blob.Store must pass.
//
// A backend's test calls Run with a function that returns a fresh, empty store for each subtest:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
//	}
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/blob"
)

// Options declares what a backend cannot do. The zero value demands everything; each flag
// skips exactly the subtests that need the capability, with a message saying why.
type Options struct {
	// NoReadAfterDelete declares that a reader opened before Delete may fail afterwards
	// (blob.Store.Open allows this "where the backend can manage it").
	NoReadAfterDelete bool
}

// Run runs the whole suite with the zero Options.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	RunOptions(t, open, Options{})
}

// RunOptions runs the whole suite. open must return a new empty store on each call and arrange
// its cleanup with t.Cleanup.
func RunOptions(t *testing.T, open func(t *testing.T) blob.Store, opt Options) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"ReadAt", testReadAt},
		{"Exists", testExists},
		{"InvalidName", testInvalidName},
		{"ValidNames", testValidNames},
		{"NotFound", testNotFound},
		{"ReaderError", testReaderError},
		{"ContextCanceled", testContextCanceled},
		{"Delete", testDelete},
		{"List", testList},
		{"ConcurrentDistinct", testConcurrentDistinct},
		{"ConcurrentSameName", testConcurrentSameName},
		{"ListInfo", testListInfo},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
	t.Run("DeleteWhileOpen", func(t *testing.T) {
		if opt.NoReadAfterDelete {
			t.Skip("backend declares Options.NoReadAfterDelete")
		}
		testDeleteWhileOpen(t, open(t))
	})
}

// data returns n deterministic pseudo-random bytes for seed.
func data(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func put(t *testing.T, s blob.Store, name string, b []byte) {
	t.Helper()
	n, err := s.Put(context.Background(), name, bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Put(%q): %v", name, err)
	}
	if n != int64(len(b)) {
		t.Fatalf("Put(%q) = %d bytes, want %d", name, n, len(b))
	}
}

// ReadAll opens name in s and returns its content, checking Size against what was read.
func ReadAll(t *testing.T, s blob.Store, name string) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	defer r.Close()
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		t.Fatalf("read %q: %v", name, err)
	}
	if int64(len(got)) != r.Size() {
		t.Fatalf("read %q: %d bytes, Size() = %d", name, len(got), r.Size())
	}
	return got
}

func checkContent(t *testing.T, s blob.Store, name string, want []byte) {
	t.Helper()
	if got := ReadAll(t, s, name); !bytes.Equal(got, want) {
		t.Fatalf("content of %q: %d bytes differing from the %d put", name, len(got), len(want))
	}
}

// list returns name -> size for everything under prefix.
func list(t *testing.T, s blob.Store, prefix string) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	err := s.List(context.Background(), prefix, func(name string, size int64) error {
		if _, dup := got[name]; dup {
			t.Errorf("List(%q) yielded %q twice", prefix, name)
		}
		got[name] = size
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return got
}

func keys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func testRoundTrip(t *testing.T, s blob.Store) {
	sizes := []struct {
		name string
		n    int
	}{
		{"empty", 0},
		{"one-byte", 1},
		{"4KiB-minus-1", 4095},
		{"4KiB", 4096},
		{"64KiB-plus-1", 64<<10 + 1},
		{"3MiB-plus-7", 3<<20 + 7},
	}
	for i, tc := range sizes {
		t.Run(tc.name, func(t *testing.T) {
			name := "rt/" + tc.name
			want := data(uint64(i), tc.n)
			// A reader returning short reads exercises the copy loop.
			n, err := s.Put(context.Background(), name, io.MultiReader(
				bytes.NewReader(want[:tc.n/3]), bytes.NewReader(want[tc.n/3:])))
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if n != int64(tc.n) {
				t.Fatalf("Put = %d bytes, want %d", n, tc.n)
			}
			checkContent(t, s, name, want)
			if got := list(t, s, name); got[name] != int64(tc.n) {
				t.Fatalf("List(%q) = %v, want %q with %d bytes", name, got, name, tc.n)
			}
		})
	}
}

func testReadAt(t *testing.T, s blob.Store) {
	const size = 10000
	want := data(7, size)
	put(t, s, "ra", want)
	r, err := s.Open(context.Background(), "ra")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != size {
		t.Fatalf("Size() = %d, want %d", r.Size(), size)
	}
	tests := []struct {
		name    string
		off     int64
		n       int
		wantN   int
		wantEOF bool // io.ReaderAt: err must be non-nil when n < len(p); io.EOF at the end
	}{
		{"start", 0, 100, 100, false},
		{"middle", 4321, 1000, 1000, false},
		{"exact-tail", size - 10, 10, 10, false},
		{"whole", 0, size, size, false},
		{"across-end", size - 10, 100, 10, true},
		{"at-end", size, 10, 0, true},
		{"past-end", size + 5000, 10, 0, true},
		{"zero-len", 123, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := make([]byte, tc.n)
			n, err := r.ReadAt(p, tc.off)
			if n != tc.wantN {
				t.Fatalf("ReadAt(%d bytes at %d) n = %d, want %d", tc.n, tc.off, n, tc.wantN)
			}
			if tc.wantEOF && err != io.EOF {
				t.Fatalf("ReadAt err = %v, want io.EOF", err)
			}
			if !tc.wantEOF && err != nil && !(err == io.EOF && tc.off+int64(n) == size) {
				t.Fatalf("ReadAt err = %v, want nil", err)
			}
			if n > 0 && !bytes.Equal(p[:n], want[tc.off:tc.off+int64(n)]) {
				t.Fatalf("ReadAt(%d bytes at %d) returned wrong bytes", tc.n, tc.off)
			}
		})
	}
	t.Run("negative-offset", func(t *testing.T) {
		if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
			t.Fatal("ReadAt at -1 succeeded")
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		// io.ReaderAt permits parallel calls on one reader.
		errc := make(chan error, 4)
		for g := range 4 {
			go func() {
				p := make([]byte, 777)
				for off := int64(g * 13); off+777 <= size; off += 1999 {
					if _, err := r.ReadAt(p, off); err != nil {
						errc <- err
						return
					}
					if !bytes.Equal(p, want[off:off+777]) {
						errc <- errors.New("wrong bytes from a parallel ReadAt")
						return
					}
				}
				errc <- nil
			}()
		}
		for range 4 {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
	})
}

func testExists(t *testing.T, s blob.Store) {
	first := data(1, 5000)
	put(t, s, "x/y", first)
	tests := []struct {
		name string
		body []byte
	}{
		{"same-content", first},
		{"other-content", data(2, 100)},
		{"empty", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Put(context.Background(), "x/y", bytes.NewReader(tc.body))
			if !errors.Is(err, blob.ErrExists) {
				t.Fatalf("second Put = %v, want ErrExists", err)
			}
			checkContent(t, s, "x/y", first)
		})
	}
}

// badNames break blob.ValidName; every method must refuse them.
var badNames = []struct{ name, value string }{
	{"empty", ""},
	{"leading-slash", "/a"},
	{"trailing-slash", "a/"},
	{"empty-segment", "a//b"},
	{"dot", "."},
	{"dotdot", ".."},
	{"dot-segment", "a/./b"},
	{"dotdot-segment", "a/../b"},
	{"escape", "../x"},
	{"space", "a b"},
	{"backslash", `a\b`},
	{"nul", "a\x00b"},
	{"newline", "a\nb"},
	{"tilde", "a~/b"},
	{"colon", "a:b"},
	{"non-ascii", "caf\u00e9"},
	{"too-long", strings.Repeat("a", 256)},
}

func testInvalidName(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, tc := range badNames {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Put(ctx, tc.value, strings.NewReader("x")); !errors.Is(err, blob.ErrInvalidName) {
				t.Errorf("Put = %v, want ErrInvalidName", err)
			}
			if r, err := s.Open(ctx, tc.value); !errors.Is(err, blob.ErrInvalidName) {
				if err == nil {
					r.Close()
				}
				t.Errorf("Open = %v, want ErrInvalidName", err)
			}
			if err := s.Delete(ctx, tc.value); !errors.Is(err, blob.ErrInvalidName) {
				t.Errorf("Delete = %v, want ErrInvalidName", err)
			}
		})
	}
	if got := list(t, s, ""); len(got) != 0 {
		t.Fatalf("List after refused puts = %v, want empty", keys(got))
	}
}

func testValidNames(t *testing.T, s blob.Store) {
	// Names that look like a backend's internals, or that nest inside each other, must all
	// coexist as distinct blobs.
	names := []string{
		"a", "a/b", "a/b/c", "ab", "a.b", "a-b_C9",
		".tmp", ".tmp/x", "tmp", "tmp/x", "blobs", "..a", "a..", "...",
		strings.Repeat("z", 255),
		strings.Repeat("y/", 127) + "y",
	}
	for i, n := range names {
		if !blob.ValidName(n) {
			t.Fatalf("test bug: %q is not a valid name", n)
		}
		put(t, s, n, data(uint64(100+i), i*10))
	}
	for i, n := range names {
		checkContent(t, s, n, data(uint64(100+i), i*10))
	}
	got := list(t, s, "")
	want := append([]string(nil), names...)
	sort.Strings(want)
	if g := keys(got); strings.Join(g, "|") != strings.Join(want, "|") {
		t.Fatalf("List = %q, want %q", g, want)
	}
}

func testNotFound(t *testing.T, s blob.Store) {
	ctx := context.Background()
	put(t, s, "p/q", []byte("q"))
	put(t, s, "r", []byte("r"))
	for _, name := range []string{"missing", "p", "p/q/r", "r/s", "p/x"} {
		t.Run(name, func(t *testing.T) {
			if r, err := s.Open(ctx, name); !errors.Is(err, blob.ErrNotFound) {
				if err == nil {
					r.Close()
				}
				t.Errorf("Open = %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, name); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Delete = %v, want ErrNotFound", err)
			}
		})
	}
}

// failReader yields n bytes then err.
type failReader struct {
	n   int
	err error
}

func (r *failReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n, 1000)
	clear(p[:k])
	r.n -= k
	return k, nil
}

func testReaderError(t *testing.T, s blob.Store) {
	cause := errors.New("client went away")
	for _, n := range []int{0, 10, 200 << 10} {
		name := "fail/x"
		_, err := s.Put(context.Background(), name, &failReader{n: n, err: cause})
		if !errors.Is(err, cause) {
			t.Fatalf("Put after %d bytes = %v, want it to wrap the reader's error", n, err)
		}
		if r, err := s.Open(context.Background(), name); !errors.Is(err, blob.ErrNotFound) {
			if err == nil {
				r.Close()
			}
			t.Fatalf("Open after failed Put = %v, want ErrNotFound", err)
		}
		if got := list(t, s, ""); len(got) != 0 {
			t.Fatalf("List after failed Put = %v, want nothing", keys(got))
		}
	}
	// The name was never taken.
	put(t, s, "fail/x", []byte("ok"))
	checkContent(t, s, "fail/x", []byte("ok"))
}

// cancelReader cancels its context after yielding some bytes, then keeps yielding.
type cancelReader struct {
	cancel context.CancelFunc
	n      int
}

func (r *cancelReader) Read(p []byte) (int, error) {
	r.n += len(p)
	if r.n > 100<<10 {
		r.cancel()
	}
	if r.n > 64<<20 {
		return 0, errors.New("put ignored the cancelled context")
	}
	clear(p)
	return len(p), nil
}

func testContextCanceled(t *testing.T, s blob.Store) {
	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.Put(ctx, "c/before", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put = %v, want context.Canceled", err)
		}
	})
	t.Run("during", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if _, err := s.Put(ctx, "c/during", &cancelReader{cancel: cancel}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put = %v, want context.Canceled", err)
		}
	})
	if got := list(t, s, ""); len(got) != 0 {
		t.Fatalf("List after cancelled Puts = %v, want nothing", keys(got))
	}
}
