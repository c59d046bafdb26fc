package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/fsblob"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/boltmeta"
	"github.com/coffer/coffer/internal/object"
)

// TestSharedSweepJob: the first round of a shared node's sweep deletes an orphan older than
// MaxWriteAge and has the blob store remove a dead writer's temp file, leaving a live
// writer's and a young write intent's blob alone.
func TestSharedSweepJob(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	db, err := boltmeta.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := boltmeta.New(db)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := fsblob.NewShared(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	objects := object.New(object.Config{Meta: ms, Blobs: blobs, Shared: true})
	old := time.Now().Add(-object.DefaultMaxWriteAge - time.Minute)
	for name, created := range map[string]time.Time{"o/00/orphan": old, "o/00/young": time.Now()} {
		if _, err := blobs.Put(ctx, name, bytes.NewReader([]byte(name))); err != nil {
			t.Fatal(err)
		}
		if err := ms.RecordIntent(ctx, meta.Intent{Blob: name, Bucket: "bkt", Key: "k", Created: created}); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(dir, "blobs", "tmp")
	for name, mod := range map[string]time.Time{"put-otherhost-1-dead": old, "put-otherhost-2-live": time.Now()} {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}

	s := &Server{log: slog.New(slog.DiscardHandler), swept: make(chan struct{})}
	s.startSharedSweep(ctx, objects, blobs, time.Hour)
	select {
	case <-s.Swept():
	case <-time.After(time.Minute):
		t.Fatal("the first round of the shared sweep did not finish")
	}
	cancel()
	s.jobs.Wait()

	for name, want := range map[string]bool{"o/00/orphan": false, "o/00/young": true} {
		r, err := blobs.Open(context.Background(), name)
		if err == nil {
			r.Close()
		}
		if got := !errors.Is(err, blob.ErrNotFound); got != want || (err != nil && got) {
			t.Errorf("blob %s: Open = %v; want it kept: %v", name, err, want)
		}
	}
	ents, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if len(left) != 1 || left[0] != "put-otherhost-2-live" {
		t.Errorf("temp files left: %q, want only the live writer's", left)
	}
}
