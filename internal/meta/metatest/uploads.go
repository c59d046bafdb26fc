package metatest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/coffer/coffer/internal/meta"
)

func upload(bucket, key, id string) meta.Upload {
	return meta.Upload{Bucket: bucket, Key: key, UploadID: id, Initiated: t0, Owner: "111122223333",
		Headers: map[string]string{"Content-Type": "image/png"}, UserMeta: map[string]string{"a": "b", "latin1": "caf\xe9"}, // not UTF-8: kept as sent
		ChecksumAlgorithm: "SHA256", ChecksumType: "COMPOSITE"}
}

func mustUpload(t *testing.T, s meta.Store, bucket, key, id string) {
	t.Helper()
	if err := s.CreateUpload(ctx, upload(bucket, key, id)); err != nil {
		t.Fatalf("CreateUpload(%q, %q): %v", key, id, err)
	}
}

func part(n int, blob string) meta.Part {
	return meta.Part{Number: n, Blob: blob, Size: int64(n) << 20, ETag: "e-" + blob, LastModified: t0,
		Checksums: map[string]string{"SHA256": blob + "="}}
}

func mustPart(t *testing.T, s meta.Store, bucket, key, id string, p meta.Part) *meta.Part {
	t.Helper()
	old, err := s.PutPart(ctx, bucket, key, id, p)
	if err != nil {
		t.Fatalf("PutPart(%d): %v", p.Number, err)
	}
	return old
}

func testUploadLifecycle(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	want := upload("b", "k", "u1")
	mustUpload(t, s, "b", "k", "u1")
	mustUpload(t, s, "b", "k", "u2") // a second upload of the same key is independent
	got, err := s.GetUpload(ctx, "b", "k", "u1")
	if err != nil {
		t.Fatal(err)
	}
	want.Initiated = want.Initiated.UTC()
	if g, w := normUpload(t, got), normUpload(t, want); !reflect.DeepEqual(g, w) {
		t.Fatalf("GetUpload:\n got  %+v\n want %+v", g, w)
	}
	if old := mustPart(t, s, "b", "k", "u1", part(1, "p1")); old != nil {
		t.Fatalf("first PutPart returned replaced %+v", old)
	}
	mustPart(t, s, "b", "k", "u1", part(2, "p2"))
	old := mustPart(t, s, "b", "k", "u1", part(1, "p1b"))
	if old == nil {
		t.Fatal("PutPart over part 1 returned no replaced part")
	}
	sameParts(t, "replaced part", []meta.Part{*old}, []meta.Part{part(1, "p1")})
	parts, err := s.ListParts(ctx, "b", "k", "u1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameParts(t, "ListParts", parts, []meta.Part{part(1, "p1b"), part(2, "p2")})
	if parts, err := s.ListParts(ctx, "b", "k", "u2", 0, 0); err != nil || len(parts) != 0 {
		t.Fatalf("other upload has %d parts (err %v), want 0", len(parts), err)
	}

	aborted, err := s.AbortUpload(ctx, "b", "k", "u1")
	if err != nil {
		t.Fatal(err)
	}
	sameParts(t, "AbortUpload", aborted, []meta.Part{part(1, "p1b"), part(2, "p2")})
	_, err = s.GetUpload(ctx, "b", "k", "u1")
	wantErr(t, "GetUpload after abort", err, meta.ErrNoSuchUpload)
	_, err = s.ListParts(ctx, "b", "k", "u1", 0, 0)
	wantErr(t, "ListParts after abort", err, meta.ErrNoSuchUpload)
	_, err = s.PutPart(ctx, "b", "k", "u1", part(3, "p3"))
	wantErr(t, "PutPart after abort", err, meta.ErrNoSuchUpload)
	_, err = s.AbortUpload(ctx, "b", "k", "u1")
	wantErr(t, "second AbortUpload", err, meta.ErrNoSuchUpload)
	if _, err := s.GetUpload(ctx, "b", "k", "u2"); err != nil {
		t.Fatalf("aborting u1 affected u2: %v", err)
	}
	if _, err := s.GetObject(ctx, "b", "k"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("an upload made an object visible: %v", err)
	}
}

func testUploadErrors(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	mustUpload(t, s, "b", "k", "u1")
	err := s.CreateUpload(ctx, upload("nobucket", "k", "u9"))
	wantErr(t, "CreateUpload in missing bucket", err, meta.ErrNoSuchBucket)
	_, err = s.ListUploads(ctx, "nobucket", meta.ListOptions{}, "")
	wantErr(t, "ListUploads in missing bucket", err, meta.ErrNoSuchBucket)
	tests := []struct{ name, bucket, key, id string }{
		{"no-bucket", "nobucket", "k", "u1"},
		{"wrong-key", "b", "j", "u1"},
		{"wrong-id", "b", "k", "u2"},
		{"empty-id", "b", "k", ""},
		{"id-prefix", "b", "k", "u"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.GetUpload(ctx, tc.bucket, tc.key, tc.id)
			wantErr(t, "GetUpload", err, meta.ErrNoSuchUpload)
			_, err = s.PutPart(ctx, tc.bucket, tc.key, tc.id, part(1, "x"))
			wantErr(t, "PutPart", err, meta.ErrNoSuchUpload)
			_, err = s.ListParts(ctx, tc.bucket, tc.key, tc.id, 0, 0)
			wantErr(t, "ListParts", err, meta.ErrNoSuchUpload)
			_, err = s.AbortUpload(ctx, tc.bucket, tc.key, tc.id)
			wantErr(t, "AbortUpload", err, meta.ErrNoSuchUpload)
			_, _, err = s.CompleteUpload(ctx, tc.id, small(tc.bucket, tc.key, 1))
			wantErr(t, "CompleteUpload", err, meta.ErrNoSuchUpload)
		})
	}
	if _, err := s.GetUpload(ctx, "b", "k", "u1"); err != nil {
		t.Fatalf("upload damaged by failed calls: %v", err)
	}
	if _, err := s.GetObject(ctx, "b", "k"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("failed CompleteUpload stored an object: %v", err)
	}
}

func testListParts(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	mustUpload(t, s, "b", "k", "u")
	nums := []int{10000, 3, 1, 2, 10, 9, 4, 5, 6, 7, 8}
	for _, n := range nums {
		mustPart(t, s, "b", "k", "u", part(n, fmt.Sprint("p", n)))
	}
	tests := []struct {
		after, limit int
		want         string
	}{
		{0, 0, "1 2 3 4 5 6 7 8 9 10 10000"},
		{-1, 0, "1 2 3 4 5 6 7 8 9 10 10000"},
		{0, 3, "1 2 3"},
		{3, 0, "4 5 6 7 8 9 10 10000"},
		{3, 2, "4 5"},
		{9, 1, "10"},
		{10, 0, "10000"},
		{11, 5, "10000"},
		{10000, 0, ""},
		{20000, 0, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("after=%d,limit=%d", tc.after, tc.limit), func(t *testing.T) {
			parts, err := s.ListParts(ctx, "b", "k", "u", tc.after, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range parts {
				got = append(got, fmt.Sprint(p.Number))
				if p.Blob != fmt.Sprint("p", p.Number) {
					t.Fatalf("part %d has blob %q", p.Number, p.Blob)
				}
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("ListParts = %q, want %q", got, tc.want)
			}
		})
	}
}

func uploadIDs(t *testing.T, s meta.Store, opt meta.ListOptions, afterID string) string {
	t.Helper()
	ups, err := s.ListUploads(ctx, "b", opt, afterID)
	if err != nil {
		t.Fatalf("ListUploads(%+v, %q): %v", opt, afterID, err)
	}
	var out []string
	for _, u := range ups {
		if u.Bucket != "b" || u.Owner != "111122223333" {
			t.Fatalf("listed upload %+v lacks its record", u)
		}
		out = append(out, u.Key+":"+u.UploadID)
	}
	return strings.Join(out, " ")
}

func testListUploads(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	for _, ku := range [][2]string{{"b", "u3"}, {"a", "u2"}, {"\u00e9", "z"}, {"a/b", "u1"},
		{"a", "u1"}, {"c/d", "x"}, {"b", "u1"}, {"ab", "u1"}} {
		mustUpload(t, s, "b", ku[0], ku[1])
	}
	all := "a:u1 a:u2 a/b:u1 ab:u1 b:u1 b:u3 c/d:x \u00e9:z"
	tests := []struct {
		name    string
		opt     meta.ListOptions
		afterID string
		want    string
	}{
		{"all", meta.ListOptions{}, "", all},
		{"limit", meta.ListOptions{Limit: 3}, "", "a:u1 a:u2 a/b:u1"},
		{"prefix", meta.ListOptions{Prefix: "a"}, "", "a:u1 a:u2 a/b:u1 ab:u1"},
		{"prefix-slash", meta.ListOptions{Prefix: "a/"}, "", "a/b:u1"},
		{"prefix-non-ascii", meta.ListOptions{Prefix: "\u00e9"}, "", "\u00e9:z"},
		{"after-key-no-id", meta.ListOptions{After: "a"}, "", all},
		{"after-key-and-id", meta.ListOptions{After: "a"}, "u1", "a:u2 a/b:u1 ab:u1 b:u1 b:u3 c/d:x \u00e9:z"},
		{"after-last-id-of-key", meta.ListOptions{After: "a"}, "u2", "a/b:u1 ab:u1 b:u1 b:u3 c/d:x \u00e9:z"},
		{"after-missing-key", meta.ListOptions{After: "aa"}, "zzz", "ab:u1 b:u1 b:u3 c/d:x \u00e9:z"},
		{"after-and-limit", meta.ListOptions{After: "b", Limit: 2}, "u1", "b:u3 c/d:x"},
		{"after-below-prefix", meta.ListOptions{Prefix: "b", After: "a"}, "zzz", "b:u1 b:u3"},
		{"after-above-prefix", meta.ListOptions{Prefix: "a", After: "b"}, "", ""},
		{"after-everything", meta.ListOptions{After: "\u00e9"}, "z", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := uploadIDs(t, s, tc.opt, tc.afterID); got != tc.want {
				t.Fatalf("ListUploads(%#v, %q) = %q, want %q", tc.opt, tc.afterID, got, tc.want)
			}
		})
	}
	t.Run("paginate-by-one", func(t *testing.T) {
		var got []string
		after, afterID := "", ""
		for range 20 {
			ups, err := s.ListUploads(ctx, "b", meta.ListOptions{After: after, Limit: 1}, afterID)
			if err != nil {
				t.Fatal(err)
			}
			if len(ups) == 0 {
				break
			}
			got = append(got, ups[0].Key+":"+ups[0].UploadID)
			after, afterID = ups[0].Key, ups[0].UploadID
		}
		if strings.Join(got, " ") != all {
			t.Fatalf("pages = %q, want %q", got, all)
		}
	})
	t.Run("gone-after-abort", func(t *testing.T) {
		if _, err := s.AbortUpload(ctx, "b", "a", "u2"); err != nil {
			t.Fatal(err)
		}
		if got := uploadIDs(t, s, meta.ListOptions{Prefix: "a"}, ""); got != "a:u1 a/b:u1 ab:u1" {
			t.Fatalf("after abort: %q", got)
		}
	})
}

func testCompleteUpload(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	prev := object("b", "k", 1)
	mustPut(t, s, prev)
	mustUpload(t, s, "b", "k", "u1")
	mustPart(t, s, "b", "k", "u1", part(1, "p1"))
	mustPart(t, s, "b", "k", "u1", part(2, "p2old"))
	mustPart(t, s, "b", "k", "u1", part(2, "p2"))
	mustPart(t, s, "b", "k", "u1", part(3, "p3"))
	o := object("b", "k", 7)
	o.Parts = []meta.Part{part(1, "p1"), part(3, "p3")}
	o.PartsCount = 2
	o.UploadID = "u1"

	t.Run("complete", func(t *testing.T) {
		replaced, unused, err := s.CompleteUpload(ctx, "u1", o)
		if err != nil {
			t.Fatal(err)
		}
		if replaced == nil {
			t.Fatal("CompleteUpload returned no replaced object")
		}
		sameObject(t, "replaced", *replaced, prev)
		sameParts(t, "unused parts", unused, []meta.Part{part(2, "p2")})
		got, err := s.GetObject(ctx, "b", "k")
		if err != nil {
			t.Fatal(err)
		}
		sameObject(t, "completed object", got, o)
		_, err = s.GetUpload(ctx, "b", "k", "u1")
		wantErr(t, "GetUpload after complete", err, meta.ErrNoSuchUpload)
		_, err = s.ListParts(ctx, "b", "k", "u1", 0, 0)
		wantErr(t, "ListParts after complete", err, meta.ErrNoSuchUpload)
		if got := uploadIDs(t, s, meta.ListOptions{}, ""); got != "" {
			t.Fatalf("uploads left after complete: %q", got)
		}
	})
	t.Run("complete-twice", func(t *testing.T) {
		again := object("b", "k", 8)
		_, _, err := s.CompleteUpload(ctx, "u1", again)
		wantErr(t, "second CompleteUpload", err, meta.ErrNoSuchUpload)
		got, _ := s.GetObject(ctx, "b", "k")
		sameObject(t, "object after refused complete", got, o)
	})
	t.Run("new-key-all-parts-used", func(t *testing.T) {
		mustUpload(t, s, "b", "new", "u2")
		mustPart(t, s, "b", "new", "u2", part(1, "q1"))
		n := object("b", "new", 9)
		n.Parts = []meta.Part{part(1, "q1")}
		replaced, unused, err := s.CompleteUpload(ctx, "u2", n)
		if err != nil {
			t.Fatal(err)
		}
		if replaced != nil || len(unused) != 0 {
			t.Fatalf("CompleteUpload = replaced %+v, unused %+v; want nil, none", replaced, unused)
		}
	})
	t.Run("object-references-no-part", func(t *testing.T) {
		mustUpload(t, s, "b", "copy", "u3")
		mustPart(t, s, "b", "copy", "u3", part(1, "r1"))
		mustPart(t, s, "b", "copy", "u3", part(2, "r2"))
		none := object("b", "copy", 10)
		none.Parts = nil // an object whose bytes are none of the parts' (an empty object)
		_, unused, err := s.CompleteUpload(ctx, "u3", none)
		if err != nil {
			t.Fatal(err)
		}
		sameParts(t, "unused parts", unused, []meta.Part{part(1, "r1"), part(2, "r2")})
	})
	t.Run("part-changed", func(t *testing.T) {
		mustUpload(t, s, "b", "pc", "u5")
		mustPart(t, s, "b", "pc", "u5", part(1, "s1old"))
		mustPart(t, s, "b", "pc", "u5", part(1, "s1")) // replaced after the caller read s1old
		stale := object("b", "pc", 11)
		stale.Parts = []meta.Part{part(1, "s1old")}
		_, _, err := s.CompleteUpload(ctx, "u5", stale)
		wantErr(t, "CompleteUpload with a replaced part", err, meta.ErrPartChanged)
		if _, err := s.GetUpload(ctx, "b", "pc", "u5"); err != nil {
			t.Fatalf("refused completion removed the upload: %v", err)
		}
		if _, err := s.GetObject(ctx, "b", "pc"); !errors.Is(err, meta.ErrNoSuchKey) {
			t.Fatalf("refused completion stored an object: %v", err)
		}
	})
	t.Run("key-must-match", func(t *testing.T) {
		mustUpload(t, s, "b", "k2", "u4")
		_, _, err := s.CompleteUpload(ctx, "u4", small("b", "other", 1))
		wantErr(t, "CompleteUpload under another key", err, meta.ErrNoSuchUpload)
		if _, err := s.GetUpload(ctx, "b", "k2", "u4"); err != nil {
			t.Fatalf("upload damaged: %v", err)
		}
		if _, err := s.GetObject(ctx, "b", "other"); !errors.Is(err, meta.ErrNoSuchKey) {
			t.Fatalf("refused CompleteUpload stored an object: %v", err)
		}
	})
}

func testConcurrentComplete(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	for round := range 4 {
		id := fmt.Sprint("u", round)
		mustUpload(t, s, "b", "k", id)
		mustPart(t, s, "b", "k", id, part(1, id+"p1"))
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for w := range n {
			wg.Go(func() {
				if w%2 == 0 {
					o := small("b", "k", 100*round+w)
					o.Parts = []meta.Part{part(1, id+"p1")}
					_, _, errs[w] = s.CompleteUpload(ctx, id, o)
				} else {
					_, errs[w] = s.AbortUpload(ctx, "b", "k", id)
				}
			})
		}
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: calls %d and %d both succeeded", round, winner, w)
			case err == nil:
				winner = w
			case !errors.Is(err, meta.ErrNoSuchUpload):
				t.Fatalf("round %d: losing call %d = %v, want ErrNoSuchUpload", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no call succeeded", round)
		}
		got, err := s.GetObject(ctx, "b", "k")
		if winner%2 == 0 && (err != nil || got.ETag != fmt.Sprint(100*round+winner)) {
			t.Fatalf("round %d: Complete %d won but object is %q (err %v)", round, winner, got.ETag, err)
		}
		_, err = s.DeleteObject(ctx, "b", "k") // each round starts without an object
		if winner%2 == 1 && !errors.Is(err, meta.ErrNoSuchKey) {
			t.Fatalf("round %d: Abort %d won but DeleteObject = %v, want ErrNoSuchKey", round, winner, err)
		}
	}
}
