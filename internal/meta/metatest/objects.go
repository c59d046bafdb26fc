package metatest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coffer/coffer/internal/meta"
)

func testConcurrentPutObjectOneKey(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	const n = 16
	replaced := make([]*meta.Object, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for w := range n {
		wg.Go(func() { replaced[w], errs[w] = s.PutObject(ctx, object("b", "k", w)) })
	}
	wg.Wait()
	seen := map[string]bool{}
	nils := 0
	for w := range n {
		if errs[w] != nil {
			t.Fatalf("PutObject %d: %v", w, errs[w])
		}
		r := replaced[w]
		if r == nil {
			nils++
			continue
		}
		// Each replaced object must be one writer's whole record, replaced exactly once.
		i, err := strconv.Atoi(strings.TrimPrefix(r.ETag, "etag-"))
		if err != nil || i == w || seen[r.ETag] {
			t.Fatalf("writer %d replaced %q: not another writer's, or replaced twice", w, r.ETag)
		}
		seen[r.ETag] = true
		sameObject(t, "replaced object", *r, object("b", "k", i))
	}
	if nils != 1 {
		t.Fatalf("%d writers saw no previous object, want exactly 1", nils)
	}
	final, err := s.GetObject(ctx, "b", "k")
	if err != nil {
		t.Fatal(err)
	}
	if seen[final.ETag] {
		t.Fatalf("final object %q was also reported replaced", final.ETag)
	}
	i, _ := strconv.Atoi(strings.TrimPrefix(final.ETag, "etag-"))
	sameObject(t, "final object", final, object("b", "k", i))
	if len(seen) != n-1 {
		t.Fatalf("%d objects reported replaced, want %d", len(seen), n-1)
	}
}

// putMany stores objects concurrently, as a loaded server would.
func putMany(t *testing.T, s meta.Store, objs []meta.Object) {
	t.Helper()
	const workers = 16
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(objs); i += workers {
				if _, err := s.PutObject(ctx, objs[i]); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func testConcurrentPutObjectDistinct(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	var objs []meta.Object
	for i := range 400 {
		objs = append(objs, small("b", fmt.Sprintf("k%03d", i), i))
	}
	putMany(t, s, objs)
	got, err := s.ListObjects(ctx, "b", meta.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(objs) {
		t.Fatalf("ListObjects = %d objects, want %d", len(got), len(objs))
	}
	for i, o := range got {
		sameObject(t, "listed", o, objs[i])
	}
}

func listKeys(t *testing.T, s meta.Store, bucket string, opt meta.ListOptions) []string {
	t.Helper()
	objs, err := s.ListObjects(ctx, bucket, opt)
	if err != nil {
		t.Fatalf("ListObjects(%+v): %v", opt, err)
	}
	keys := []string{}
	for _, o := range objs {
		if o.Bucket != bucket {
			t.Fatalf("listed object has Bucket %q, want %q", o.Bucket, bucket)
		}
		keys = append(keys, o.Key)
	}
	return keys
}

func testListObjectsSmall(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	mustBucket(t, s, "empty")
	all := []string{"Z", "a", "a/b", "a/c", "a/c/d", "ab", "b", "\u00e9", "\u00e9t\u00e9", "\u65e5\u672c"}
	for i, k := range all {
		mustPut(t, s, small("b", k, i))
	}
	tests := []struct {
		name string
		opt  meta.ListOptions
		want []string
	}{
		{"all", meta.ListOptions{}, all},
		{"limit-0-is-all", meta.ListOptions{Limit: 0}, all},
		{"negative-limit-is-all", meta.ListOptions{Limit: -1}, all},
		{"limit", meta.ListOptions{Limit: 2}, all[:2]},
		{"limit-past-end", meta.ListOptions{Limit: 100}, all},
		{"prefix", meta.ListOptions{Prefix: "a/"}, []string{"a/b", "a/c", "a/c/d"}},
		{"prefix-is-key", meta.ListOptions{Prefix: "a"}, []string{"a", "a/b", "a/c", "a/c/d", "ab"}},
		{"prefix-none", meta.ListOptions{Prefix: "q"}, []string{}},
		{"prefix-non-ascii", meta.ListOptions{Prefix: "\u00e9"}, []string{"\u00e9", "\u00e9t\u00e9"}},
		{"after", meta.ListOptions{After: "a/c"}, all[4:]},
		{"after-missing-key", meta.ListOptions{After: "a/bb"}, all[3:]},
		{"after-last", meta.ListOptions{After: "\u65e5\u672c"}, []string{}},
		{"after-below-prefix", meta.ListOptions{Prefix: "b", After: "a"}, []string{"b"}},
		{"after-within-prefix", meta.ListOptions{Prefix: "a/", After: "a/b"}, []string{"a/c", "a/c/d"}},
		{"after-above-prefix", meta.ListOptions{Prefix: "a/", After: "b"}, []string{}},
		{"after-and-limit", meta.ListOptions{After: "a", Limit: 2}, []string{"a/b", "a/c"}},
		{"skip-common-prefix", meta.ListOptions{After: "a/\xff"}, all[5:]},
		{"skip-common-prefix-in-prefix", meta.ListOptions{Prefix: "a/", After: "a/c/\xff"}, []string{}},
		{"skip-non-ascii-prefix", meta.ListOptions{After: "\u00e9\xff"}, all[9:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := listKeys(t, s, "b", tc.opt); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("ListObjects(%#v) = %q, want %q", tc.opt, got, tc.want)
			}
		})
	}
	t.Run("empty-bucket", func(t *testing.T) {
		if got := listKeys(t, s, "empty", meta.ListOptions{}); len(got) != 0 {
			t.Fatalf("empty bucket lists %q", got)
		}
	})
}

func testListObjectsLarge(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	var objs []meta.Object
	add := func(k string) { objs = append(objs, small("b", k, len(objs))) }
	for d := range 20 {
		for f := range 500 {
			add(fmt.Sprintf("d%02d/f%04d", d, f))
		}
	}
	for i := range 120 {
		add(fmt.Sprintf("\u00fc/%03d", i))
		add(fmt.Sprintf("\u65e5\u672c/%03d", i))
	}
	add("top")
	putMany(t, s, objs)
	model := make([]string, len(objs))
	for i, o := range objs {
		model[i] = o.Key
	}
	sort.Strings(model)

	t.Run("paginate", func(t *testing.T) {
		for _, limit := range []int{1000, 777} {
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				if pages > len(model)/limit+1 {
					t.Fatal("pagination does not end")
				}
				page := listKeys(t, s, "b", meta.ListOptions{After: after, Limit: limit})
				if len(page) > limit {
					t.Fatalf("page of %d keys, limit %d", len(page), limit)
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				after = page[len(page)-1]
			}
			if strings.Join(got, "|") != strings.Join(model, "|") {
				t.Fatalf("limit %d: paginated %d keys differ from the %d stored", limit, len(got), len(model))
			}
		}
	})
	t.Run("prefix", func(t *testing.T) {
		got := listKeys(t, s, "b", meta.ListOptions{Prefix: "d07/"})
		if len(got) != 500 || got[0] != "d07/f0000" || got[499] != "d07/f0499" {
			t.Fatalf("prefix d07/: %d keys from %q", len(got), got[:min(1, len(got))])
		}
		got = listKeys(t, s, "b", meta.ListOptions{Prefix: "\u00fc/", After: "\u00fc/099", Limit: 5})
		if strings.Join(got, " ") != "\u00fc/100 \u00fc/101 \u00fc/102 \u00fc/103 \u00fc/104" {
			t.Fatalf("non-ASCII page = %q", got)
		}
	})
	t.Run("delimiter-walk", func(t *testing.T) {
		// What the S3 layer does for delimiter "/": one entry per call, skipping each common
		// prefix with After = prefix + "\xff".
		var entries []string
		after, calls := "", 0
		for {
			if calls++; calls > 100 {
				t.Fatalf("delimiter walk does not end: %q", entries[max(0, len(entries)-5):])
			}
			page := listKeys(t, s, "b", meta.ListOptions{After: after, Limit: 1})
			if len(page) == 0 {
				break
			}
			k := page[0]
			if i := strings.IndexByte(k, '/'); i >= 0 {
				entries = append(entries, k[:i+1])
				after = k[:i+1] + "\xff"
			} else {
				entries = append(entries, k)
				after = k
			}
		}
		want := []string{}
		for d := range 20 {
			want = append(want, fmt.Sprintf("d%02d/", d))
		}
		want = append(want, "top", "\u00fc/", "\u65e5\u672c/")
		if strings.Join(entries, " ") != strings.Join(want, " ") || calls != len(want)+1 {
			t.Fatalf("delimiter walk = %q in %d calls, want %q in %d", entries, calls, want, len(want)+1)
		}
	})
}

func testContextCanceled(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.CreateBucket(done, meta.Bucket{Name: "c"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateBucket = %v, want context.Canceled", err)
	}
	if _, err := s.GetBucket(ctx, "c"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("bucket created by a cancelled call: %v", err)
	}
	if _, err := s.PutObject(done, small("b", "k", 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("PutObject = %v, want context.Canceled", err)
	}
	if _, err := s.GetObject(ctx, "b", "k"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("object stored by a cancelled call: %v", err)
	}
	if _, err := s.GetObject(done, "b", "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("GetObject = %v, want context.Canceled", err)
	}
	if _, err := s.ListObjects(done, "b", meta.ListOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("ListObjects = %v, want context.Canceled", err)
	}
}
