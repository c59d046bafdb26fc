// Package metatest is the conformance suite every meta.Store must pass.
//
// A backend's test calls Run with a function that returns a fresh, empty store for each subtest:
//
//	func TestConformance(t *testing.T) {
//		metatest.Run(t, func(t *testing.T) meta.Store { return newStore(t) })
//	}
package metatest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/meta"
)

// Run runs the whole suite. open must return a new empty store on each call and arrange its
// cleanup with t.Cleanup; the suite calls Close itself where it tests it.
func Run(t *testing.T, open func(t *testing.T) meta.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s meta.Store)
	}{
		{"Buckets", testBuckets},
		{"DeleteBucketNotEmpty", testDeleteBucketNotEmpty},
		{"DeleteBucketWithUploads", testDeleteBucketWithUploads},
		{"ConcurrentCreateBucket", testConcurrentCreateBucket},
		{"UpdateBucket", testUpdateBucket},
		{"ObjectRoundTrip", testObjectRoundTrip},
		{"InlineObject", testInlineObject},
		{"ConditionalWrites", testConditionalWrites},
		{"ObjectErrors", testObjectErrors},
		{"PutObjectReplaces", testPutObjectReplaces},
		{"ConcurrentPutObjectOneKey", testConcurrentPutObjectOneKey},
		{"ConcurrentPutObjectDistinct", testConcurrentPutObjectDistinct},
		{"ListObjectsSmall", testListObjectsSmall},
		{"ListObjectsLarge", testListObjectsLarge},
		{"UploadLifecycle", testUploadLifecycle},
		{"UploadErrors", testUploadErrors},
		{"ListParts", testListParts},
		{"ListUploads", testListUploads},
		{"CompleteUpload", testCompleteUpload},
		{"ConcurrentComplete", testConcurrentComplete},
		{"ContextCanceled", testContextCanceled},
		{"Intents", testIntents},
		{"FreedIntents", testFreedIntents},
		{"BucketEncryption", testBucketEncryption},
		{"BucketAccess", testBucketAccess},
		{"EncryptionRecords", testEncryptionRecords},
		{"ReplaceEncryption", testReplaceEncryption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = context.Background()

// t0 has sub-millisecond digits and a non-UTC zone: stores must keep at least the millisecond
// and may return UTC.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 891_234_567, time.FixedZone("X", 3600))

func mustBucket(t *testing.T, s meta.Store, name string) {
	t.Helper()
	if err := s.CreateBucket(ctx, meta.Bucket{Name: name, Owner: "111122223333", Created: t0}); err != nil {
		t.Fatalf("CreateBucket(%q): %v", name, err)
	}
}

func mustPut(t *testing.T, s meta.Store, o meta.Object) *meta.Object {
	t.Helper()
	old, err := s.PutObject(ctx, o)
	if err != nil {
		t.Fatalf("PutObject(%q): %v", o.Key, err)
	}
	return old
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s = %v, want %v", what, err, want)
	}
}

// normTime reduces a time to what every store must keep: the millisecond, in UTC.
func normTime(t *testing.T, tm time.Time) time.Time {
	t.Helper()
	if tm.IsZero() {
		return time.Time{}
	}
	if tm.Location() != time.UTC {
		t.Errorf("time %v returned in zone %v, want UTC", tm, tm.Location())
	}
	return tm.UTC().Truncate(time.Millisecond)
}

func normMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func normPart(t *testing.T, p meta.Part) meta.Part {
	p.LastModified = normTime(t, p.LastModified)
	p.Checksums = normMap(p.Checksums)
	return p
}

func normParts(t *testing.T, ps []meta.Part) []meta.Part {
	if len(ps) == 0 {
		return nil
	}
	out := make([]meta.Part, len(ps))
	for i, p := range ps {
		out[i] = normPart(t, p)
	}
	return out
}

func normObject(t *testing.T, o meta.Object) meta.Object {
	o.LastModified = normTime(t, o.LastModified)
	o.Headers, o.UserMeta, o.Checksums = normMap(o.Headers), normMap(o.UserMeta), normMap(o.Checksums)
	o.Parts = normParts(t, o.Parts)
	return o
}

func normUpload(t *testing.T, u meta.Upload) meta.Upload {
	u.Initiated = normTime(t, u.Initiated)
	u.Headers, u.UserMeta = normMap(u.Headers), normMap(u.UserMeta)
	return u
}

// sameObject fails unless got is want as far as a store must preserve it.
func sameObject(t *testing.T, what string, got, want meta.Object) {
	t.Helper()
	want.LastModified = want.LastModified.UTC() // the input may be in any zone
	for i := range want.Parts {
		want.Parts[i].LastModified = want.Parts[i].LastModified.UTC()
	}
	if g, w := normObject(t, got), normObject(t, want); !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, g, w)
	}
}

func sameParts(t *testing.T, what string, got, want []meta.Part) {
	t.Helper()
	for i := range want {
		want[i].LastModified = want[i].LastModified.UTC()
	}
	if g, w := normParts(t, got), normParts(t, want); !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, g, w)
	}
}

// object returns a fully populated object record, different for each (key, n).
func object(bucket, key string, n int) meta.Object {
	blob := fmt.Sprintf("blob/%s/%d", key, n)
	return meta.Object{
		Bucket: bucket, Key: key, Size: int64(100 + n), ETag: fmt.Sprintf("etag-%d", n),
		LastModified: t0.Add(time.Duration(n) * time.Second), Owner: "111122223333",
		Headers:      map[string]string{"Content-Type": "text/plain", "Cache-Control": "no-cache"},
		UserMeta:     map[string]string{"color": fmt.Sprint("blue", n)},
		Checksums:    map[string]string{"CRC32": "AAAAAA=="},
		ChecksumType: "FULL_OBJECT",
		Parts: []meta.Part{{Number: 0, Blob: blob, Size: int64(100 + n), ETag: fmt.Sprintf("etag-%d", n),
			LastModified: t0, Checksums: map[string]string{"CRC32": "AAAAAA=="}}},
	}
}

// small returns a minimal object record, for bulk tests.
func small(bucket, key string, n int) meta.Object {
	return meta.Object{Bucket: bucket, Key: key, Size: int64(n), ETag: fmt.Sprint(n),
		Parts: []meta.Part{{Blob: fmt.Sprintf("b/%d", n), Size: int64(n)}}}
}

func testBuckets(t *testing.T, s meta.Store) {
	want := []meta.Bucket{
		{Name: "alpha", Region: "eu-west-1", Owner: "111122223333", Created: t0},
		{Name: "beta", Owner: "444455556666", Created: t0.Add(time.Hour)},
		{Name: "a-b.c", Created: t0},
	}
	for _, b := range want {
		if err := s.CreateBucket(ctx, b); err != nil {
			t.Fatalf("CreateBucket(%q): %v", b.Name, err)
		}
	}
	norm := func(b meta.Bucket) meta.Bucket { b.Created = normTime(t, b.Created.UTC()); return b }
	t.Run("get", func(t *testing.T) {
		for _, b := range want {
			got, err := s.GetBucket(ctx, b.Name)
			if err != nil {
				t.Fatalf("GetBucket(%q): %v", b.Name, err)
			}
			if norm(got) != norm(b) {
				t.Fatalf("GetBucket = %+v, want %+v", got, b)
			}
		}
	})
	t.Run("exists", func(t *testing.T) {
		err := s.CreateBucket(ctx, meta.Bucket{Name: "alpha", Owner: "someone else"})
		wantErr(t, "CreateBucket of existing", err, meta.ErrBucketExists)
		got, _ := s.GetBucket(ctx, "alpha")
		if got.Owner != "111122223333" {
			t.Fatalf("failed CreateBucket changed the owner to %q", got.Owner)
		}
	})
	t.Run("list-by-name", func(t *testing.T) {
		got, err := s.ListBuckets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names := []string{}
		for _, b := range got {
			names = append(names, b.Name)
		}
		if fmt.Sprint(names) != "[a-b.c alpha beta]" {
			t.Fatalf("ListBuckets = %v, want [a-b.c alpha beta]", names)
		}
		if norm(got[1]) != norm(want[0]) {
			t.Fatalf("ListBuckets[1] = %+v, want %+v", got[1], want[0])
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, err := s.GetBucket(ctx, "nope")
		wantErr(t, "GetBucket", err, meta.ErrNoSuchBucket)
		_, err = s.DeleteBucket(ctx, "nope")
		wantErr(t, "DeleteBucket", err, meta.ErrNoSuchBucket)
	})
	t.Run("delete-recreate", func(t *testing.T) {
		if parts, err := s.DeleteBucket(ctx, "beta"); err != nil || len(parts) != 0 {
			t.Fatalf("DeleteBucket = %v, %v; want no parts", parts, err)
		}
		_, err := s.GetBucket(ctx, "beta")
		wantErr(t, "GetBucket after delete", err, meta.ErrNoSuchBucket)
		_, err = s.DeleteBucket(ctx, "beta")
		wantErr(t, "second DeleteBucket", err, meta.ErrNoSuchBucket)
		mustBucket(t, s, "beta")
		objs, err := s.ListObjects(ctx, "beta", meta.ListOptions{})
		if err != nil || len(objs) != 0 {
			t.Fatalf("recreated bucket lists %d objects (err %v), want 0", len(objs), err)
		}
	})
}

// testDeleteBucketNotEmpty: an object keeps a bucket; a refused delete changes nothing, the
// bucket's uploads included.
func testDeleteBucketNotEmpty(t *testing.T, s meta.Store) {
	tests := []struct {
		name string
		fill func(t *testing.T, bucket string)
	}{
		{"object", func(t *testing.T, b string) { mustPut(t, s, small(b, "k", 1)) }},
		{"object-and-upload", func(t *testing.T, b string) {
			mustPut(t, s, small(b, "k", 1))
			mustUpload(t, s, b, "j", "u1")
			mustPart(t, s, b, "j", "u1", part(1, "p1"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := "nb-" + tc.name
			mustBucket(t, s, b)
			tc.fill(t, b)
			before, err := s.ListUploads(ctx, b, meta.ListOptions{}, "")
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.DeleteBucket(ctx, b)
			wantErr(t, "DeleteBucket", err, meta.ErrBucketNotEmpty)
			if _, err := s.GetBucket(ctx, b); err != nil {
				t.Fatalf("bucket gone after refused delete: %v", err)
			}
			after, err := s.ListUploads(ctx, b, meta.ListOptions{}, "")
			if err != nil || len(after) != len(before) {
				t.Fatalf("refused delete left %d uploads (err %v), want %d", len(after), err, len(before))
			}
			if _, err := s.DeleteObject(ctx, b, "k"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.DeleteBucket(ctx, b); err != nil {
				t.Fatalf("DeleteBucket once without objects: %v", err)
			}
		})
	}
}

// testDeleteBucketWithUploads: as in S3, a bucket whose only content is in-progress uploads
// is deleted with them, in one transaction, and every part is returned for freeing.
func testDeleteBucketWithUploads(t *testing.T, s meta.Store) {
	mustBucket(t, s, "ups")
	mustUpload(t, s, "ups", "a", "u1")
	mustPart(t, s, "ups", "a", "u1", part(1, "p1"))
	mustPart(t, s, "ups", "a", "u1", part(2, "p2"))
	mustUpload(t, s, "ups", "a", "u2") // no parts
	mustUpload(t, s, "ups", "b/c", "u3")
	mustPart(t, s, "ups", "b/c", "u3", part(7, "p3"))
	parts, err := s.DeleteBucket(ctx, "ups")
	if err != nil {
		t.Fatalf("DeleteBucket with only uploads: %v", err)
	}
	var blobs []string
	for _, p := range parts {
		blobs = append(blobs, p.Blob)
	}
	sort.Strings(blobs)
	if fmt.Sprint(blobs) != "[p1 p2 p3]" {
		t.Fatalf("DeleteBucket returned parts %v, want [p1 p2 p3]", blobs)
	}
	_, err = s.GetBucket(ctx, "ups")
	wantErr(t, "GetBucket after delete", err, meta.ErrNoSuchBucket)
	_, err = s.GetUpload(ctx, "ups", "a", "u1")
	wantErr(t, "GetUpload after delete", err, meta.ErrNoSuchUpload)
	mustBucket(t, s, "ups")
	ups, err := s.ListUploads(ctx, "ups", meta.ListOptions{}, "")
	if err != nil || len(ups) != 0 {
		t.Fatalf("recreated bucket lists %d uploads (err %v), want 0", len(ups), err)
	}
	_, err = s.PutPart(ctx, "ups", "a", "u1", part(3, "p4"))
	wantErr(t, "PutPart to an upload of the deleted bucket", err, meta.ErrNoSuchUpload)
}

func testConcurrentCreateBucket(t *testing.T, s meta.Store) {
	const n = 8
	errc := make(chan error, n)
	for i := range n {
		go func() { errc <- s.CreateBucket(ctx, meta.Bucket{Name: "race", Owner: fmt.Sprint(i)}) }()
	}
	wins := 0
	for range n {
		err := <-errc
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, meta.ErrBucketExists):
			t.Fatalf("losing CreateBucket = %v, want ErrBucketExists", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent CreateBucket calls succeeded, want 1", wins)
	}
}

func testObjectRoundTrip(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	multi := object("b", "multi", 2)
	multi.PartsCount = 3
	multi.ChecksumType = "COMPOSITE"
	multi.Parts = []meta.Part{
		{Number: 1, Blob: "x/1", Size: 5 << 20, ETag: "e1", LastModified: t0},
		{Number: 2, Blob: "x/2", Size: 5 << 20, ETag: "e2", LastModified: t0.Add(time.Millisecond),
			Checksums: map[string]string{"SHA256": "abc=", "CRC32C": "def="}},
		{Number: 7, Blob: "x/7", Size: 1, ETag: "e7"},
	}
	tests := []struct {
		name string
		o    meta.Object
	}{
		{"full", object("b", "full", 1)},
		{"multipart", multi},
		{"minimal", meta.Object{Bucket: "b", Key: "minimal"}},
		{"empty-maps", meta.Object{Bucket: "b", Key: "empty-maps", Headers: map[string]string{},
			UserMeta: map[string]string{}, Checksums: map[string]string{}}},
		{"odd-key", object("b", "dir/ünï cödé/\u65e5\u672c?&=+%20 ", 3)},
		{"long-key", object("b", fmt.Sprintf("%01024d", 7), 4)},
		{"odd-values", meta.Object{Bucket: "b", Key: "odd-values", ETag: "\"q\"",
			UserMeta: map[string]string{"k": "v\n\u00e9", "": "empty-name"}}},
		// Header bytes a client sent as Latin-1 are not UTF-8 and must come back as sent.
		{"latin1-values", meta.Object{Bucket: "b", Key: "latin1-values",
			Headers:  map[string]string{"Content-Disposition": "attachment; filename=\"caf\xe9\"", "Content-Type": "text/plain"},
			UserMeta: map[string]string{"name": "caf\xe9", "raw": "\xff\xfe", "text": "caf\u00e9"}}},
		{"upload-id", func() meta.Object { o := object("b", "upload-id", 5); o.UploadID = "u-1"; return o }()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if old := mustPut(t, s, tc.o); old != nil {
				t.Fatalf("first PutObject returned replaced %+v", old)
			}
			got, err := s.GetObject(ctx, "b", tc.o.Key)
			if err != nil {
				t.Fatal(err)
			}
			sameObject(t, "GetObject", got, tc.o)
			list, err := s.ListObjects(ctx, "b", meta.ListOptions{Prefix: tc.o.Key, Limit: 1})
			if err != nil || len(list) != 1 {
				t.Fatalf("ListObjects = %d objects, %v", len(list), err)
			}
			sameObject(t, "ListObjects", list[0], tc.o)
		})
	}
}

func testObjectErrors(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	mustPut(t, s, object("b", "k", 1))
	_, err := s.PutObject(ctx, small("nobucket", "k", 1))
	wantErr(t, "PutObject to missing bucket", err, meta.ErrNoSuchBucket)
	tests := []struct {
		name, bucket, key string
		want              error
	}{
		{"no-bucket", "nobucket", "k", meta.ErrNoSuchBucket},
		{"no-key", "b", "nokey", meta.ErrNoSuchKey},
		{"key-prefix", "b", "", meta.ErrNoSuchKey},
		{"key-extension", "b", "k2", meta.ErrNoSuchKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.GetObject(ctx, tc.bucket, tc.key)
			wantErr(t, "GetObject", err, tc.want)
			_, err = s.DeleteObject(ctx, tc.bucket, tc.key)
			wantErr(t, "DeleteObject", err, tc.want)
		})
	}
	t.Run("list-no-bucket", func(t *testing.T) {
		_, err := s.ListObjects(ctx, "nobucket", meta.ListOptions{})
		wantErr(t, "ListObjects", err, meta.ErrNoSuchBucket)
	})
	t.Run("delete-returns-object", func(t *testing.T) {
		got, err := s.DeleteObject(ctx, "b", "k")
		if err != nil {
			t.Fatal(err)
		}
		sameObject(t, "DeleteObject", got, object("b", "k", 1))
		_, err = s.GetObject(ctx, "b", "k")
		wantErr(t, "GetObject after delete", err, meta.ErrNoSuchKey)
		_, err = s.DeleteObject(ctx, "b", "k")
		wantErr(t, "second DeleteObject", err, meta.ErrNoSuchKey)
	})
}

func testPutObjectReplaces(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	mustBucket(t, s, "other")
	if old := mustPut(t, s, object("b", "k", 1)); old != nil {
		t.Fatalf("first put replaced %+v", old)
	}
	if old := mustPut(t, s, object("other", "k", 9)); old != nil {
		t.Fatalf("put in another bucket replaced %+v", old)
	}
	old := mustPut(t, s, object("b", "k", 2))
	if old == nil {
		t.Fatal("second put returned no replaced object")
	}
	sameObject(t, "replaced", *old, object("b", "k", 1))
	got, _ := s.GetObject(ctx, "b", "k")
	sameObject(t, "after replace", got, object("b", "k", 2))
	got, _ = s.GetObject(ctx, "other", "k")
	sameObject(t, "other bucket", got, object("other", "k", 9))
}

// testInlineObject stores an object whose bytes live in its record: GetObject and
// DeleteObject give them back exactly; listings and replaced objects leave them out.
func testInlineObject(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	data := []byte("inline \x00\xff bytes: any binary content")
	o := object("b", "small", 1)
	o.Size = int64(len(data))
	o.Parts = []meta.Part{{Number: 0, Size: int64(len(data)), ETag: "e", LastModified: t0, Inline: data}}
	mustPut(t, s, o)
	got, err := s.GetObject(ctx, "b", "small")
	if err != nil {
		t.Fatal(err)
	}
	sameObject(t, "inline object", got, o)
	if len(got.Parts) != 1 || string(got.Parts[0].Inline) != string(data) || got.Parts[0].Blob != "" {
		t.Fatalf("inline bytes came back as %q (blob %q)", got.Parts[0].Inline, got.Parts[0].Blob)
	}
	list, err := s.ListObjects(ctx, "b", meta.ListOptions{})
	if err != nil || len(list) != 1 || list[0].Parts[0].Inline != nil || list[0].Parts[0].Size != int64(len(data)) {
		t.Fatalf("listing: %v %+v; want the part without its bytes", err, list)
	}
	replaced, err := s.PutObject(ctx, object("b", "small", 2))
	if err != nil || replaced == nil || replaced.ETag != "etag-1" || replaced.Parts[0].Inline != nil {
		t.Fatalf("replaced object: %v %+v", err, replaced)
	}
	// The bytes went with the object they belonged to.
	if got, _ := s.GetObject(ctx, "b", "small"); len(got.Parts) != 1 || got.Parts[0].Inline != nil {
		t.Fatalf("a blob-backed object inherited inline bytes: %+v", got.Parts)
	}
	mustPut(t, s, o)
	del, err := s.DeleteObject(ctx, "b", "small")
	if err != nil || string(del.Parts[0].Inline) != string(data) {
		t.Fatalf("DeleteObject: %v, bytes %q", err, del.Parts[0].Inline)
	}
	mustPut(t, s, object("b", "small", 3))
	if got, _ := s.GetObject(ctx, "b", "small"); got.Parts[0].Inline != nil {
		t.Fatal("a deleted object's inline bytes came back")
	}
}

var errRefused = errors.New("metatest: condition refused")

// testConditionalWrites checks that conditions see the object a write would replace, inside the
// write, and that a refusal changes nothing; and that only one of many racing "create only if
// absent" writes wins.
func testConditionalWrites(t *testing.T, s meta.Store) {
	mustBucket(t, s, "b")
	absent := func(cur *meta.Object) error {
		if cur != nil {
			return errRefused
		}
		return nil
	}
	if _, err := s.PutObject(ctx, object("b", "k", 1), absent); err != nil {
		t.Fatalf("create-if-absent of a new key: %v", err)
	}
	_, err := s.PutObject(ctx, object("b", "k", 2), absent)
	wantErr(t, "create-if-absent of an existing key", err, errRefused)
	got, _ := s.GetObject(ctx, "b", "k")
	sameObject(t, "object after a refused write", got, object("b", "k", 1))
	var seen *meta.Object
	if _, err := s.PutObject(ctx, object("b", "k", 3), func(cur *meta.Object) error { seen = cur; return nil }); err != nil {
		t.Fatal(err)
	}
	if seen == nil || seen.ETag != "etag-1" {
		t.Fatalf("condition saw %+v, want the current object", seen)
	}

	_, err = s.DeleteObject(ctx, "b", "k", func(*meta.Object) error { return errRefused })
	wantErr(t, "refused DeleteObject", err, errRefused)
	if _, err := s.GetObject(ctx, "b", "k"); err != nil {
		t.Fatalf("a refused delete removed the object: %v", err)
	}

	mustUpload(t, s, "b", "k", "up")
	mustPart(t, s, "b", "k", "up", part(1, "c1"))
	done := object("b", "k", 4)
	done.Parts = []meta.Part{part(1, "c1")}
	_, _, err = s.CompleteUpload(ctx, "up", done, absent)
	wantErr(t, "conditional CompleteUpload", err, errRefused)
	if _, err := s.GetUpload(ctx, "b", "k", "up"); err != nil {
		t.Fatalf("refused completion removed the upload: %v", err)
	}

	const racers = 8
	var wg sync.WaitGroup
	wins := make(chan int, racers)
	for w := range racers {
		wg.Go(func() {
			if _, err := s.PutObject(ctx, object("b", "race", w), absent); err == nil {
				wins <- w
			} else if !errors.Is(err, errRefused) {
				t.Errorf("racer %d: %v", w, err)
			}
		})
	}
	wg.Wait()
	close(wins)
	if n := len(wins); n != 1 {
		t.Fatalf("%d of %d racing create-if-absent writes won, want 1", n, racers)
	}
}
