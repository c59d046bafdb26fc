package object_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/fsblob"
	"github.com/coffer/coffer/internal/blob/s3blob"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/pgmeta"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/pgtest"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/server"
)

// The tests of nodes sharing their stores run on a real PostgreSQL.
func TestMain(m *testing.M) { pgtest.Main(m) }

// clock is a wall clock the test moves forward, shared by the nodes of a test.
type clock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skew += d
}

// forgetfulBlobs is a blob store as S3 and NFS behave towards a reader on another node: the
// real fsblob store, but a blob deleted while open is no longer readable through the readers
// opened before (locally an unlinked file stays readable, which would hide the fault).
type forgetfulBlobs struct {
	blob.Store
	deleted sync.Map // name → struct{}
}

func (f *forgetfulBlobs) Open(ctx context.Context, name string) (blob.Reader, error) {
	r, err := f.Store.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return &forgetfulReader{Reader: r, name: name, deleted: &f.deleted}, nil
}

func (f *forgetfulBlobs) Delete(ctx context.Context, name string) error {
	err := f.Store.Delete(ctx, name)
	if err == nil {
		f.deleted.Store(name, struct{}{})
	}
	return err
}

type forgetfulReader struct {
	blob.Reader
	name    string
	deleted *sync.Map
}

var errStale = errors.New("stale file handle: the blob was deleted by another node")

func (r *forgetfulReader) ReadAt(p []byte, off int64) (int, error) {
	if _, gone := r.deleted.Load(r.name); gone {
		return 0, errStale
	}
	return r.Reader.ReadAt(p, off)
}

// cluster is the stores nodes share: one PostgreSQL database for metadata, one shared blob
// store, a key service, and a clock.
type cluster struct {
	url   string
	blobs blob.Store
	keys  object.Keys
	clock *clock
}

// newCluster is a cluster whose blobs are in a directory opened as a shared store.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	blobs, err := fsblob.NewShared(filepath.Join(t.TempDir(), "shared"))
	if err != nil {
		t.Fatal(err)
	}
	return newClusterOn(t, blobs)
}

// The default account of the Coffer that serves as the S3 store.
const testAccessKey, testSecretKey = "AKIACOFFERTEST000001", "cofferTestSecretKey/0123456789abcdefghijk"

// newS3Cluster is a cluster whose blobs are in an S3 store: another Coffer, on loopback.
func newS3Cluster(t *testing.T) *cluster {
	t.Helper()
	ctx := context.Background()
	srv, err := server.Start(server.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", Region: "us-east-1",
		AccessKey: testAccessKey, SecretKey: testSecretKey, NoAudit: true})
	if err != nil {
		t.Fatalf("start the S3 store: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown of the S3 store: %v", err)
		}
	})
	cfg := s3blob.Config{Bucket: "blobs", Prefix: "node-blobs", Endpoint: srv.URL, Region: "us-east-1", PathStyle: true,
		CAFile: srv.CertFile, Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, "")}
	if _, err := s3Client(t, srv).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		t.Fatal(err)
	}
	blobs, err := s3blob.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return newClusterOn(t, blobs)
}

// s3Client is an SDK client of the Coffer server srv, as the default account.
func s3Client(t *testing.T, srv *server.Server) *s3.Client {
	t.Helper()
	pem, err := os.ReadFile(srv.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("the server's certificate file holds no certificate")
	}
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		HTTPClient:  &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}})
}

func newClusterOn(t *testing.T, blobs blob.Store) *cluster {
	t.Helper()
	dir := t.TempDir()
	db, _, _ := realStores(t, dir) // for the key service's database; the nodes keep their metadata in PostgreSQL
	return &cluster{url: pgtest.NewDatabase(t), blobs: blobs, keys: realKeys(t, db, dir), clock: &clock{}}
}

// node starts one node on the cluster's stores, with a pool of its own, over blobs (the
// cluster's store or a wrapper of it).
func (c *cluster) node(t *testing.T, blobs blob.Store, shared bool) (*object.Service, *pgmeta.Store) {
	t.Helper()
	ms := pgtest.OpenStore(t, c.url, pgmeta.New)
	return object.New(object.Config{Meta: ms, Blobs: blobs, Keys: c.keys, Now: c.clock.now, Shared: shared}), ms
}

func blobOf(t *testing.T, ms meta.Store, bucket, key string) string {
	t.Helper()
	o, err := ms.GetObject(context.Background(), bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	return o.Parts[0].Blob
}

func putBody(t *testing.T, s *object.Service, key string, body []byte) {
	t.Helper()
	_, err := s.PutObject(context.Background(), object.PutInput{Bucket: "bkt", Key: key, Body: bytes.NewReader(body), Size: int64(len(body))})
	if err != nil {
		t.Fatalf("PutObject(%s): %v", key, err)
	}
}

func exists(t *testing.T, s blob.Store, name string) bool {
	t.Helper()
	r, err := s.Open(context.Background(), name)
	if errors.Is(err, blob.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	return true
}

// TestSharedGetSurvivesOverwriteAndDelete: a GET streaming an object on node B while node A
// overwrites and then deletes it reads the whole, right object from a store that does not
// keep deleted blobs readable (a real S3 store; a directory as NFS treats a file another
// client deletes); the old blobs go only with the sweep after FreeAfter. With frees at once
// (the embedded default) the same GET fails, which shows the test can see the fault.
func TestSharedGetSurvivesOverwriteAndDelete(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) (*cluster, blob.Store)
	}{
		{"s3blob", func(t *testing.T) (*cluster, blob.Store) { c := newS3Cluster(t); return c, c.blobs }},
		{"fsblob as on NFS", func(t *testing.T) (*cluster, blob.Store) {
			c := newCluster(t)
			return c, &forgetfulBlobs{Store: c.blobs}
		}},
	}
	for _, st := range stores {
		for _, tc := range []struct {
			name   string
			shared bool
		}{{"shared", true}, {"immediate frees", false}} {
			t.Run(st.name+"/"+tc.name, func(t *testing.T) { testGetDuringFree(t, st.open, tc.shared) })
		}
	}
}

func testGetDuringFree(t *testing.T, open func(t *testing.T) (*cluster, blob.Store), shared bool) {
	ctx := context.Background()
	c, store := open(t)
	a, ms := c.node(t, store, shared)
	b, _ := c.node(t, store, shared)
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "bkt"}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16) // several read windows
	putBody(t, a, "k", body)
	old := blobOf(t, ms, "bkt", "k")

	_, r, err := b.OpenObject(ctx, "bkt", "k", secret.Key{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got bytes.Buffer
	if _, err := r.WriteRange(&got, 0, 1<<20); err != nil {
		t.Fatalf("first megabyte: %v", err)
	}
	putBody(t, a, "k", []byte("a newer, smaller object that is not kept inline: "+string(make([]byte, object.InlineMax))))
	newer := blobOf(t, ms, "bkt", "k")
	if err := a.DeleteObject(ctx, "bkt", "k", object.WriteCondition{}); err != nil {
		t.Fatal(err)
	}
	_, err = r.WriteRange(&got, 1<<20, int64(len(body))-1<<20)
	if !shared {
		if err == nil {
			t.Fatal("reading on after an immediate free succeeded: the store kept the deleted blob readable, so this test sees nothing")
		}
		if exists(t, c.blobs, old) || exists(t, c.blobs, newer) {
			t.Fatal("an immediate free left a blob")
		}
		return
	}
	if err != nil {
		t.Fatalf("reading on after the overwrite and the delete: %v", err)
	}
	if !bytes.Equal(got.Bytes(), body) {
		t.Fatalf("read %d bytes, not the object of %d bytes it opened", got.Len(), len(body))
	}
	for _, name := range []string{old, newer} {
		if !exists(t, c.blobs, name) {
			t.Fatalf("freed blob %s deleted at once", name)
		}
	}

	// Freed blobs younger than FreeAfter stay, on either node's sweep.
	c.clock.advance(object.DefaultFreeAfter - time.Minute)
	for _, n := range []*object.Service{a, b} {
		if swept, err := n.Sweep(ctx); err != nil || swept != (object.Swept{}) {
			t.Fatalf("Sweep before FreeAfter = %+v, %v; want nothing deleted", swept, err)
		}
	}
	if !exists(t, c.blobs, old) || !exists(t, c.blobs, newer) {
		t.Fatal("a sweep before FreeAfter deleted a freed blob")
	}
	c.clock.advance(2 * time.Minute)
	if swept, err := b.Sweep(ctx); err != nil || swept != (object.Swept{Freed: 2}) {
		t.Fatalf("Sweep after FreeAfter = %+v, %v; want the 2 freed blobs", swept, err)
	}
	if exists(t, c.blobs, old) || exists(t, c.blobs, newer) {
		t.Fatal("the sweep after FreeAfter left a freed blob")
	}
	if left, err := ms.ListIntents(ctx, c.clock.now().Add(time.Hour), 0); err != nil || len(left) != 0 {
		t.Fatalf("intents left = %v, %v; want none", left, err)
	}
}

// TestSharedSweepSparesWritesOfOtherNodes: node B's write, stalled between its blob and its
// commit, survives node A's periodic sweep even with A's clock just short of MaxWriteAge
// ahead, while the same sweep deletes an orphan whose write intent is older than that.
func TestSharedSweepSparesWritesOfOtherNodes(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t)
	stalling := &stallingBlobs{Store: c.blobs, stored: make(chan string, 1), release: make(chan struct{})}
	a, ms := c.node(t, c.blobs, true)
	// B's clock is the real one: only A's moves.
	bMeta := pgtest.OpenStore(t, c.url, pgmeta.New)
	b := object.New(object.Config{Meta: bMeta, Blobs: stalling, Keys: c.keys, Shared: true})
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "bkt"}); err != nil {
		t.Fatal(err)
	}
	orphan := "o/00/00orphan"
	if _, err := c.blobs.Put(ctx, orphan, bytes.NewReader([]byte("left by a node that died"))); err != nil {
		t.Fatal(err)
	}
	err := ms.RecordIntent(ctx, meta.Intent{Blob: orphan, Bucket: "bkt", Key: "dead", Created: time.Now().Add(-object.DefaultMaxWriteAge - time.Minute)})
	if err != nil {
		t.Fatal(err)
	}

	body := bytes.Repeat([]byte("x"), object.InlineMax+1)
	done := make(chan error, 1)
	go func() {
		_, err := b.PutObject(ctx, object.PutInput{Bucket: "bkt", Key: "k", Body: bytes.NewReader(body), Size: int64(len(body))})
		done <- err
	}()
	var name string
	select {
	case name = <-stalling.stored:
	case err := <-done:
		t.Fatalf("PutObject ended before its blob was stored: %v", err)
	}
	c.clock.advance(object.DefaultMaxWriteAge - time.Minute)
	swept, err := a.Sweep(ctx)
	close(stalling.release)
	if err := <-done; err != nil {
		t.Fatalf("B's PutObject: %v", err)
	}
	if err != nil || swept != (object.Swept{Interrupted: 1}) {
		t.Fatalf("A's Sweep = %+v, %v; want the orphan alone deleted", swept, err)
	}
	if exists(t, c.blobs, orphan) {
		t.Fatal("the orphan of an old write intent is still there")
	}
	if !exists(t, c.blobs, name) {
		t.Fatal("A's sweep deleted the blob of B's write in flight")
	}
	_, r, err := a.OpenObject(ctx, "bkt", "k", secret.Key{})
	if err != nil {
		t.Fatalf("B's object on A: %v", err)
	}
	defer r.Close()
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("B's object read %d bytes, %v; want its %d bytes", len(got), err, len(body))
	}

	// A freed intent naming a blob that a record references (a store that broke the intent
	// contract) is dropped and its blob kept, however old.
	err = ms.RecordIntent(ctx, meta.Intent{Blob: name, Bucket: "bkt", Key: "k", Created: time.Now().Add(-24 * time.Hour), Kind: meta.IntentFreed})
	if err != nil {
		t.Fatal(err)
	}
	if swept, err := a.Sweep(ctx); err != nil || swept != (object.Swept{}) {
		t.Fatalf("Sweep of a freed intent naming a live blob = %+v, %v; want nothing deleted", swept, err)
	}
	if !exists(t, c.blobs, name) {
		t.Fatal("the sweep deleted a referenced blob that a freed intent named")
	}
	if left, err := ms.ListIntents(ctx, c.clock.now().Add(time.Hour), 0); err != nil || len(left) != 0 {
		t.Fatalf("intents left = %v, %v; want none", left, err)
	}
}

// TestSharedSweepConcurrent: two nodes sweeping at once delete every blob due exactly once
// between them, drop every intent, and neither fails on what the other did; a bulk delete
// that frees most of the blobs does not trip the refusal meant for write intents, which
// still holds.
func TestSharedSweepConcurrent(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t)
	a, ms := c.node(t, c.blobs, true)
	b, _ := c.node(t, c.blobs, true)
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "bkt"}); err != nil {
		t.Fatal(err)
	}
	const objects, orphans = 70, 10 // more than the sweep's floor of 64, and all of the blobs
	body := make([]byte, object.InlineMax+1)
	for i := range objects {
		putBody(t, a, fmt.Sprint("k", i), body)
	}
	for i := range objects {
		if err := b.DeleteObject(ctx, "bkt", fmt.Sprint("k", i), object.WriteCondition{}); err != nil {
			t.Fatal(err)
		}
	}
	old := c.clock.now().Add(-object.DefaultMaxWriteAge - time.Minute)
	for i := range orphans {
		name := fmt.Sprintf("o/%02x/orphan%d", i, i)
		if _, err := c.blobs.Put(ctx, name, bytes.NewReader([]byte("orphan"))); err != nil {
			t.Fatal(err)
		}
		if err := ms.RecordIntent(ctx, meta.Intent{Blob: name, Bucket: "bkt", Key: "dead", Created: old}); err != nil {
			t.Fatal(err)
		}
	}
	c.clock.advance(object.DefaultFreeAfter + time.Minute)
	results := make(chan object.Swept, 2)
	errs := make(chan error, 2)
	for _, n := range []*object.Service{a, b} {
		go func() {
			swept, err := n.Sweep(ctx)
			results <- swept
			errs <- err
		}()
	}
	var total object.Swept
	for range 2 {
		s := <-results
		if err := <-errs; err != nil {
			t.Fatalf("Sweep: %v", err)
		}
		total.Freed += s.Freed
		total.Interrupted += s.Interrupted
	}
	if want := (object.Swept{Interrupted: orphans, Freed: objects}); total != want {
		t.Fatalf("the two sweeps deleted %+v between them, want %+v", total, want)
	}
	n := 0
	if err := c.blobs.List(ctx, "", func(string, int64) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("%d blobs left (%v), want none", n, err)
	}
	if left, err := ms.ListIntents(ctx, c.clock.now().Add(time.Hour), 0); err != nil || len(left) != 0 {
		t.Fatalf("intents left = %v, %v; want none", left, err)
	}

	// Write intents alone still count: as many old ones as blobs are refused.
	for i := range objects {
		name := fmt.Sprintf("o/%02x/lost%d", i, i)
		if _, err := c.blobs.Put(ctx, name, bytes.NewReader([]byte("lost"))); err != nil {
			t.Fatal(err)
		}
		if err := ms.RecordIntent(ctx, meta.Intent{Blob: name, Bucket: "bkt", Key: "lost", Created: old}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Sweep(ctx); !errors.Is(err, object.ErrSweepRefused) {
		t.Fatalf("Sweep of write intents naming every blob = %v, want ErrSweepRefused", err)
	}
}

// TestSharedWriteOutlivingMaxWriteAge: a write on shared stores whose blob lands so late that
// other nodes' sweeps may take its intent for an interrupted write's is given up, blob and
// intent, rather than committed to a blob a sweep may delete; a write on time commits.
func TestSharedWriteOutlivingMaxWriteAge(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t)
	stalling := &stallingBlobs{Store: c.blobs, stored: make(chan string, 1), release: make(chan struct{})}
	s, ms := c.node(t, stalling, true)
	if err := ms.CreateBucket(ctx, meta.Bucket{Name: "bkt"}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), object.InlineMax+1)
	done := make(chan error, 1)
	go func() {
		_, err := s.PutObject(ctx, object.PutInput{Bucket: "bkt", Key: "slow", Body: bytes.NewReader(body), Size: int64(len(body))})
		done <- err
	}()
	name := <-stalling.stored
	c.clock.advance(object.DefaultMaxWriteAge * 95 / 100)
	close(stalling.release)
	if err := <-done; !errors.Is(err, object.ErrRequestTimeout) {
		t.Fatalf("PutObject outliving MaxWriteAge = %v, want ErrRequestTimeout", err)
	}
	if exists(t, c.blobs, name) {
		t.Fatal("the blob of the given-up write is still there")
	}
	if _, err := ms.GetObject(ctx, "bkt", "slow"); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("GetObject of the given-up write = %v, want ErrNoSuchKey", err)
	}
	if left, err := ms.ListIntents(ctx, c.clock.now().Add(time.Hour), 0); err != nil || len(left) != 0 {
		t.Fatalf("intents left = %v, %v; want none", left, err)
	}
	stalling.stored = make(chan string, 1) // the release channel stays closed: no more stalls
	putBody(t, s, "on-time", body)
}
