package metatest

import (
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
