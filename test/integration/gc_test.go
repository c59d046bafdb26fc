package integration

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/fsblob"
	"github.com/coffer/coffer/internal/server"
)

// TestOrphanSweep plants blobs that no metadata references, as a crash between publishing a
// blob and committing its metadata leaves them, and checks that a restart deletes exactly
// those, keeping objects and the parts of an upload in progress.
func TestOrphanSweep(t *testing.T) {
	dir := t.TempDir()
	start := func() *env {
		srv, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", Region: "us-east-1", AccessKey: testAccessKey, SecretKey: testSecretKey})
		if err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, dir: dir, srv: srv, region: "us-east-1"}
		e.s3 = e.client(testAccessKey, testSecretKey, nil)
		return e
	}
	stop := func(e *env) {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.srv.Shutdown(c); err != nil {
			t.Fatal(err)
		}
	}
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
	for _, name := range orphans {
		if _, err := blobs.Put(c, name, bytes.NewReader([]byte("orphan"))); err != nil {
			t.Fatal(err)
		}
	}

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
