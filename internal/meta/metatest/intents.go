package metatest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/meta"
)

// intentBlobs lists the blobs of the intents created before before.
func intentBlobs(t *testing.T, s meta.Store, before time.Time) []string {
	t.Helper()
	ins, err := s.ListIntents(ctx, before, 0)
	if err != nil {
		t.Fatalf("ListIntents: %v", err)
	}
	var out []string
	for _, in := range ins {
		out = append(out, in.Blob)
	}
	slices.Sort(out)
	return out
}

func mustIntent(t *testing.T, s meta.Store, in meta.Intent) {
	t.Helper()
	if err := s.RecordIntent(ctx, in); err != nil {
		t.Fatalf("RecordIntent(%s): %v", in.Blob, err)
	}
}

// testIntents holds the contract the start-up sweep relies on: an intent exists exactly until
// a record that references its blob lands (or it is dropped), so no referenced blob is ever
// named by an intent.
func testIntents(t *testing.T, s meta.Store) {
	mustBucket(t, s, "bkt")
	mustUpload(t, s, "bkt", "mp", "u1")
	later := t0.Add(time.Hour)
	obj := object("bkt", "k", 1)
	objBlob := obj.Parts[0].Blob
	for _, in := range []meta.Intent{
		{Blob: objBlob, Bucket: "bkt", Key: "k", Created: t0},
		{Blob: "p/1", Bucket: "bkt", Key: "mp", UploadID: "u1", Created: t0},
		{Blob: "p/refused", Bucket: "bkt", Key: "mp", UploadID: "gone", Created: t0},
		{Blob: "o/failed", Bucket: "bkt", Key: "x", Created: t0},
		{Blob: "o/young", Bucket: "bkt", Key: "y", Created: later},
	} {
		mustIntent(t, s, in)
	}
	if got, want := intentBlobs(t, s, later), []string{objBlob, "o/failed", "p/1", "p/refused"}; !slices.Equal(got, want) {
		t.Fatalf("intents before %v = %q, want %q (o/young is not older)", later, got, want)
	}
	ins, _ := s.ListIntents(ctx, later, 0)
	for _, in := range ins {
		if in.Blob == "p/1" && (in.Bucket != "bkt" || in.Key != "mp" || in.UploadID != "u1" || !normTime(t, in.Created).Equal(t0.Truncate(time.Millisecond))) {
			t.Fatalf("intent round trip: %+v", in)
		}
	}
	if got := intentBlobs(t, s, later.Add(time.Second)); len(got) != 5 {
		t.Fatalf("all intents = %q, want 5", got)
	}
	if got, _ := s.ListIntents(ctx, later.Add(time.Second), 2); len(got) != 2 {
		t.Fatalf("ListIntents limit 2 returned %d", len(got))
	}

	// Committing the records that reference the blobs drops their intents atomically.
	mustPut(t, s, obj)
	mustPart(t, s, "bkt", "mp", "u1", part(1, "p/1"))
	// A refused write keeps its intent: the caller deletes the blob, then drops it.
	_, err := s.PutPart(ctx, "bkt", "mp", "gone", part(1, "p/refused"))
	wantErr(t, "PutPart to a missing upload", err, meta.ErrNoSuchUpload)
	if got, want := intentBlobs(t, s, later), []string{"o/failed", "p/refused"}; !slices.Equal(got, want) {
		t.Fatalf("intents after commits = %q, want %q", got, want)
	}
	for _, b := range []string{"o/failed", "p/refused", "o/never-recorded"} {
		if err := s.DropIntent(ctx, b); err != nil {
			t.Fatalf("DropIntent(%s): %v", b, err)
		}
	}
	if got := intentBlobs(t, s, later.Add(time.Second)); !slices.Equal(got, []string{"o/young"}) {
		t.Fatalf("intents after drops = %q, want [o/young]", got)
	}
	// An inline object references no blob and touches no intent.
	mustPut(t, s, meta.Object{Bucket: "bkt", Key: "inline", Size: 1, Parts: []meta.Part{{Inline: []byte("x"), Size: 1}}})
	if got := intentBlobs(t, s, later.Add(time.Second)); !slices.Equal(got, []string{"o/young"}) {
		t.Fatalf("intents after an inline put = %q, want [o/young]", got)
	}
}

// testFreedIntents holds what deferred freeing relies on: a freed intent keeps its kind and
// names through the store, replaces a write intent of its blob and is replaced by one, lists
// by its time like any intent, and goes with DropIntent, twice without harm (several nodes
// may sweep it).
func testFreedIntents(t *testing.T, s meta.Store) {
	mustBucket(t, s, "bkt")
	later := t0.Add(time.Hour)
	for _, in := range []meta.Intent{
		{Blob: "o/written", Bucket: "bkt", Key: "k", Created: t0},
		{Blob: "o/freed", Bucket: "bkt", Key: "k", Created: t0, Kind: meta.IntentFreed},
		{Blob: "p/freed", Bucket: "bkt", Key: "mp", UploadID: "u1", Created: t0, Kind: meta.IntentFreed},
		{Blob: "o/freed-young", Bucket: "bkt", Key: "y", Created: later, Kind: meta.IntentFreed},
		{Blob: "o/refreed", Bucket: "bkt", Key: "r", Created: t0},
		{Blob: "o/refreed", Bucket: "bkt", Key: "r", Created: t0, Kind: meta.IntentFreed},
	} {
		mustIntent(t, s, in)
	}
	kinds := func(before time.Time) map[string]meta.IntentKind {
		t.Helper()
		ins, err := s.ListIntents(ctx, before, 0)
		if err != nil {
			t.Fatalf("ListIntents: %v", err)
		}
		out := map[string]meta.IntentKind{}
		for _, in := range ins {
			out[in.Blob] = in.Kind
			if in.Blob == "p/freed" && (in.Bucket != "bkt" || in.Key != "mp" || in.UploadID != "u1" || !normTime(t, in.Created).Equal(t0.Truncate(time.Millisecond))) {
				t.Errorf("freed intent round trip: %+v", in)
			}
		}
		return out
	}
	want := map[string]meta.IntentKind{"o/written": meta.IntentWrite, "o/freed": meta.IntentFreed,
		"p/freed": meta.IntentFreed, "o/refreed": meta.IntentFreed}
	if got := kinds(later); !reflect.DeepEqual(got, want) {
		t.Fatalf("intents before %v = %v, want %v", later, got, want)
	}
	// A write intent recorded over a freed one (a store must not keep the older kind).
	mustIntent(t, s, meta.Intent{Blob: "o/refreed", Bucket: "bkt", Key: "r", Created: t0})
	want["o/refreed"] = meta.IntentWrite
	if got := kinds(later); !reflect.DeepEqual(got, want) {
		t.Fatalf("intents after re-recording = %v, want %v", got, want)
	}
	// A commit that names a freed blob again drops its intent, as it drops a write intent.
	o := object("bkt", "k", 1)
	o.Parts[0].Blob = "o/freed"
	mustPut(t, s, o)
	delete(want, "o/freed")
	for range 2 {
		if err := s.DropIntent(ctx, "p/freed"); err != nil {
			t.Fatalf("DropIntent(p/freed): %v", err)
		}
	}
	delete(want, "p/freed")
	want["o/freed-young"] = meta.IntentFreed
	if got := kinds(later.Add(time.Second)); !reflect.DeepEqual(got, want) {
		t.Fatalf("intents after the commit and the drops = %v, want %v", got, want)
	}
}
