package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/blob"
)

func testDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	put(t, s, "d/a", []byte("a"))
	put(t, s, "d/b", []byte("b"))
	if err := s.Delete(ctx, "d/a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Delete(ctx, "d/a"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("second Delete = %v, want ErrNotFound", err)
	}
	if _, err := s.Open(ctx, "d/a"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Open after Delete = %v, want ErrNotFound", err)
	}
	if got := keys(list(t, s, "")); len(got) != 1 || got[0] != "d/b" {
		t.Fatalf("List after Delete = %q, want [d/b]", got)
	}
	checkContent(t, s, "d/b", []byte("b"))
	// The name is free again.
	put(t, s, "d/a", []byte("again"))
	checkContent(t, s, "d/a", []byte("again"))
}

func testDeleteWhileOpen(t *testing.T, s blob.Store) {
	want := data(9, 300<<10)
	put(t, s, "dwo", want)
	r, err := s.Open(context.Background(), "dwo")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := s.Delete(context.Background(), "dwo"); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read after Delete: %d bytes, err %v; want the whole blob", len(got), err)
	}
}

func testList(t *testing.T, s blob.Store) {
	names := map[string]int64{
		"a": 1, "ab": 2, "a/b": 3, "a/c/d": 4, "a/c/e": 5, "b/a": 6, "bb": 0,
	}
	for n, size := range names {
		put(t, s, n, data(uint64(size), int(size)))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a", "a/b", "a/c/d", "a/c/e", "ab", "b/a", "bb"}},
		{"a", []string{"a", "a/b", "a/c/d", "a/c/e", "ab"}},
		{"a/", []string{"a/b", "a/c/d", "a/c/e"}},
		{"a/c", []string{"a/c/d", "a/c/e"}},
		{"a/c/", []string{"a/c/d", "a/c/e"}},
		{"a/c/d", []string{"a/c/d"}},
		{"b", []string{"b/a", "bb"}},
		{"b/", []string{"b/a"}},
		{"c", nil},
		{"a/z/", nil},
		{"a//", nil},
		{"../", nil},
	}
	for _, tc := range tests {
		t.Run("prefix="+tc.prefix, func(t *testing.T) {
			got := list(t, s, tc.prefix)
			if g := keys(got); strings.Join(g, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("List(%q) = %q, want %q", tc.prefix, g, tc.want)
			}
			for n, size := range got {
				if size != names[n] {
					t.Errorf("List size of %q = %d, want %d", n, size, names[n])
				}
			}
		})
	}
	t.Run("callback-error", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := s.List(context.Background(), "", func(string, int64) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("List with failing callback = %v after %d calls, want stop after 1", err, calls)
		}
	})
}

func testConcurrentDistinct(t *testing.T, s blob.Store) {
	const workers, each = 8, 16
	errc := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range each {
				b := data(uint64(w*each+i), 4096+i)
				name := string(rune('a'+w)) + "/" + string(rune('a'+i))
				if _, err := s.Put(context.Background(), name, bytes.NewReader(b)); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range workers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	for w := range workers {
		for i := range each {
			checkContent(t, s, string(rune('a'+w))+"/"+string(rune('a'+i)), data(uint64(w*each+i), 4096+i))
		}
	}
	if got := list(t, s, ""); len(got) != workers*each {
		t.Fatalf("List found %d blobs, want %d", len(got), workers*each)
	}
}

func testConcurrentSameName(t *testing.T, s blob.Store) {
	const workers = 8
	type result struct {
		w   int
		err error
	}
	res := make(chan result, workers)
	for w := range workers {
		go func() {
			_, err := s.Put(context.Background(), "same/name", bytes.NewReader(data(uint64(w), 50000)))
			res <- result{w, err}
		}()
	}
	winner := -1
	for range workers {
		r := <-res
		switch {
		case r.err == nil && winner >= 0:
			t.Fatalf("two Puts of one name succeeded (%d and %d)", winner, r.w)
		case r.err == nil:
			winner = r.w
		case !errors.Is(r.err, blob.ErrExists):
			t.Fatalf("losing Put = %v, want ErrExists", r.err)
		}
	}
	if winner < 0 {
		t.Fatal("no Put succeeded")
	}
	checkContent(t, s, "same/name", data(uint64(winner), 50000))
	if got := list(t, s, ""); len(got) != 1 {
		t.Fatalf("List = %v, want one blob", keys(got))
	}
}

// testListInfo checks that a store listing ages agrees with List and dates its blobs around
// their writing. Stores without ages must say so with blob.ErrNoInfo.
func testListInfo(t *testing.T, s blob.Store) {
	start := time.Now()
	put(t, s, "li/a", data(1, 10))
	put(t, s, "li/b", data(2, 20))
	end := time.Now()
	got := map[string]blob.Info{}
	err := blob.ListInfo(context.Background(), s, "li/", func(i blob.Info) error { got[i.Name] = i; return nil })
	if errors.Is(err, blob.ErrNoInfo) {
		t.Skip("store lists no write times")
	}
	if err != nil {
		t.Fatalf("ListInfo: %v", err)
	}
	want := list(t, s, "li/")
	if len(got) != len(want) {
		t.Fatalf("ListInfo found %d blobs, List %d", len(got), len(want))
	}
	// The store's clock may be coarse (S3 dates to the second) or slightly off.
	const margin = 5 * time.Second
	for n, size := range want {
		i := got[n]
		if i.Size != size {
			t.Errorf("ListInfo size of %q = %d, List says %d", n, i.Size, size)
		}
		if i.Modified.Before(start.Add(-margin)) || i.Modified.After(end.Add(margin)) {
			t.Errorf("ListInfo dates %q %v, outside its writing (%v to %v)", n, i.Modified, start, end)
		}
	}
}
