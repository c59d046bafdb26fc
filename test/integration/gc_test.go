package integration

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/fsblob"
	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/boltmeta"
	"github.com/coffer/coffer/internal/server"
)

// TestOrphanSweep plants blobs that no metadata references, as a crash between publishing a
// blob and committing its metadata leaves them (each under a write intent), and one blob that
// no intent names either, and checks that a restart deletes exactly the blobs of the intents,
// keeping objects, the parts of an upload in progress and the unexplained blob.
func TestOrphanSweep(t *testing.T) {
	dir := t.TempDir()
	start := func() *env { return startIn(t, dir) }
	stop := func(e *env) { stopEnv(t, e) }
	e := start()
	c := ctx(t)
	newBucket(t, e, "gcbucket")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("gcbucket"), Key: aws.String("kept"), Body: stringsReader("kept data")}))
	up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String("gcbucket"), Key: aws.String("mp")}))
	part := must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String("gcbucket"), Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: stringsReader("part data")}))
	stop(e)

	blobs, err := fsblob.New(e.dir + "/blobs")
	if err != nil {
		t.Fatal(err)
	}
	orphans := []string{"o/ab/abababababababababababababababab", "p/cd/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"}
	unexplained := "o/ef/efefefefefefefefefefefefefefefef"
	for _, name := range append(orphans, unexplained) {
		if _, err := blobs.Put(c, name, bytes.NewReader([]byte("orphan"))); err != nil {
			t.Fatal(err)
		}
	}
	recordIntents(t, dir, []meta.Intent{
		{Blob: orphans[0], Bucket: "gcbucket", Key: "kept", Created: time.Now()},
		{Blob: orphans[1], Bucket: "gcbucket", Key: "mp", UploadID: *up.UploadId, Created: time.Now()},
	})

	e = start()
	defer stop(e)
	select {
	case <-e.srv.Swept():
	case <-time.After(30 * time.Second):
		t.Fatal("sweep did not finish")
	}
	for _, name := range orphans {
		if _, err := blobs.Open(c, name); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("orphan %s survived the sweep: %v", name, err)
		}
	}
	if _, err := blobs.Open(c, unexplained); err != nil {
		t.Errorf("a blob no intent names was deleted: %v", err)
	}
	if got := readAll(t, must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("gcbucket"), Key: aws.String("kept")})).Body); got != "kept data" {
		t.Fatalf("object after sweep: %q", got)
	}
	done := must[*s3.CompleteMultipartUploadOutput](t)(e.s3.CompleteMultipartUpload(c, &s3.CompleteMultipartUploadInput{Bucket: aws.String("gcbucket"), Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}))
	if done.ETag == nil {
		t.Fatal("no ETag")
	}
	if got := readAll(t, must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("gcbucket"), Key: aws.String("mp")})).Body); got != "part data" {
		t.Fatalf("part of an upload in progress lost by the sweep: %q", got)
	}
}

// recordIntents writes intents into a stopped server's meta.db, as writes a crash interrupted
// leave them.
func recordIntents(t *testing.T, dir string, intents []meta.Intent) {
	t.Helper()
	db, err := boltfile.Open(filepath.Join(dir, "meta.db"), server.TopBuckets())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := boltmeta.New(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range intents {
		if err := store.RecordIntent(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
}
