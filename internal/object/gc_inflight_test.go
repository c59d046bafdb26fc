package object_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/object"
)

// stallingBlobs is the real fsblob store that holds each Put, once its blob is durable, until
// release is closed: the moment between a blob's write and the commit that names it.
type stallingBlobs struct {
	blob.Store
	stored  chan string
	release chan struct{}
}

func (s *stallingBlobs) Put(ctx context.Context, name string, r io.Reader) (int64, error) {
	n, err := s.Store.Put(ctx, name, r)
	s.stored <- name
	<-s.release
	return n, err
}

// TestSweepSparesWritesInFlight: the start-up sweep runs while the server already serves, and
// the wall clock can step back (NTP at boot), so a write begun after the start can carry an
// intent that looks older than the start. The sweep must not delete its blob: the commit that
// follows would name a blob that is gone.
func TestSweepSparesWritesInFlight(t *testing.T) {
	ctx := context.Background()
	dir, db, ms, fs := embeddedStores(t)
	blobs := &stallingBlobs{Store: fs, stored: make(chan string, 1), release: make(chan struct{})}
	start := time.Now()
	stepped := func() time.Time { return start.Add(-time.Hour) } // the clock stepped back
	s := object.New(object.Config{Meta: ms, Blobs: blobs, Keys: realKeys(t, db, dir), Now: stepped})
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), object.InlineMax+1)
	put := make(chan error, 1)
	go func() {
		_, err := s.PutObject(ctx, object.PutInput{Bucket: "b", Key: "k", Body: bytes.NewReader(body), Size: int64(len(body))})
		put <- err
	}()
	var name string
	select {
	case name = <-blobs.stored:
	case err := <-put:
		t.Fatalf("PutObject ended before its blob was stored: %v", err)
	}
	n, err := s.SweepInterrupted(ctx, start)
	if err != nil {
		t.Fatalf("SweepInterrupted: %v", err)
	}
	close(blobs.release)
	if err := <-put; err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if n != 0 {
		t.Errorf("the sweep deleted %d blobs, want 0", n)
	}
	if _, err := fs.Open(ctx, name); err != nil {
		t.Fatalf("blob of the committed object: %v", err)
	}
	if _, err := s.SweepInterrupted(ctx, time.Now()); err != nil {
		t.Fatalf("second SweepInterrupted: %v", err)
	}
	if left, err := ms.ListIntents(ctx, time.Now().Add(time.Hour), 0); err != nil || len(left) != 0 {
		t.Fatalf("intents left after the write = %v, %v; want none", left, err)
	}
}
