package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// mixedGetShare is the fraction of GETs in --op mixed; the rest are PUTs over the same
// preloaded keys.
const mixedGetShare = 0.7

// s3Run is the state of one `coffer bench s3`.
type s3Run struct {
	cfg      S3Config
	c        *s3.Client
	bucket   string
	prefix   string // every key the run writes starts with it
	payload  []byte // random, generated once and shared read-only by every PUT
	sse      sseHeaders
	next     atomic.Uint64 // round-robin position of GETs over the preloaded keys
	progress io.Writer
}

// RunS3 runs the S3 load described by cfg. progress, when not nil, gets a live status line.
// A report is returned whenever the load ran, even if cleaning up afterwards failed (that
// error is returned with it).
func RunS3(ctx context.Context, cfg S3Config, progress io.Writer) (*Report, error) {
	awsCfg, tr, err := awsConfig(cfg.Conn, cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	// Close the connections when done, including those dialled but never used, which would
	// otherwise hold up a server's graceful shutdown.
	defer tr.CloseIdleConnections()
	r := &s3Run{cfg: cfg, progress: progress}
	r.c = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(cfg.Endpoint)
		o.UsePathStyle = true
	})
	runID := randomHex(4)
	r.prefix = "coffer-bench-" + runID + "/"
	if cfg.Prefix != "" {
		r.prefix = cfg.Prefix
	}
	r.sse = newSSEHeaders(cfg.SSE, cfg.KMSKeyID, cfg.BucketKey)
	r.payload = make([]byte, cfg.Size)
	_, _ = rand.Read(r.payload) // crypto/rand.Read never fails

	r.bucket = cfg.Bucket
	if r.bucket == "" {
		r.bucket = "coffer-bench-" + runID
		in := &s3.CreateBucketInput{Bucket: &r.bucket}
		if cfg.Region != "us-east-1" { // the one region where S3 rejects an explicit constraint
			in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
				LocationConstraint: types.BucketLocationConstraint(cfg.Region),
			}
		}
		if _, err := r.c.CreateBucket(ctx, in); err != nil {
			return nil, fmt.Errorf("create bucket %s: %s", r.bucket, oneLine(err))
		}
		if cfg.SSE == "c" {
			if err := r.allowSSEC(ctx); err != nil {
				return nil, errors.Join(fmt.Errorf("allow SSE-C on bucket %s: %s", r.bucket, oneLine(err)), r.cleanup(context.WithoutCancel(ctx)))
			}
		}
	}
	// Clean-up must finish even after Ctrl-C has stopped the load.
	bg := context.WithoutCancel(ctx)
	rep, runErr := r.load(ctx)
	cleanErr := r.cleanup(bg)
	if runErr != nil {
		return nil, errors.Join(runErr, cleanErr)
	}
	return rep, cleanErr
}

// load preloads objects if the operation reads them, then measures.
func (r *s3Run) load(ctx context.Context) (*Report, error) {
	op := r.put
	switch r.cfg.Op {
	case "get":
		op = r.get
	case "mixed":
		op = r.mixed
	case "list":
		op = r.list
	}
	if r.cfg.Op != "put" && !r.cfg.Reuse {
		if err := r.preload(ctx); err != nil {
			return nil, err
		}
	}
	stats, elapsed := runLoad(ctx, r.cfg.Concurrency, r.cfg.Duration, op, r.progress)
	return &Report{
		Target: "s3", Endpoint: r.cfg.Endpoint, Op: r.cfg.Op, Concurrency: r.cfg.Concurrency,
		SizeBytes: r.cfg.Size, Objects: r.objectsIfUsed(), SSE: r.cfg.SSE,
		Duration: r.cfg.Duration.Seconds(), Elapsed: elapsed.Seconds(),
		Operations: buildOperations(stats, elapsed),
	}, nil
}

func (r *s3Run) objectsIfUsed() int {
	if r.cfg.Op == "put" {
		return 0
	}
	return r.cfg.Objects
}

func (r *s3Run) key(i uint64) string { return fmt.Sprintf("%sobj-%08d", r.prefix, i) }

// preload writes --objects objects with --concurrency workers. Any failure stops the run:
// a read benchmark over missing objects would measure nothing useful.
func (r *s3Run) preload(ctx context.Context) error {
	var next atomic.Uint64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	var failed atomic.Bool
	for range min(r.cfg.Concurrency, r.cfg.Objects) {
		wg.Go(func() {
			for ctx.Err() == nil && !failed.Load() {
				i := next.Add(1) - 1
				if i >= uint64(r.cfg.Objects) {
					return
				}
				if err := r.putKey(ctx, r.key(i)); err != nil {
					once.Do(func() { first = fmt.Errorf("preload %s: %s: %s", r.key(i), errorCode(err), oneLine(err)) })
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = fmt.Errorf("preload: %w", ctx.Err())
	}
	return first
}

func (r *s3Run) putKey(ctx context.Context, key string) error {
	in := &s3.PutObjectInput{
		Bucket:        &r.bucket,
		Key:           &key,
		Body:          bytes.NewReader(r.payload),
		ContentLength: aws.Int64(int64(len(r.payload))),
	}
	r.sse.put(in)
	out, err := r.c.PutObject(ctx, in)
	if err != nil {
		return err
	}
	return r.sse.confirmed(out.ServerSideEncryption, out.SSECustomerAlgorithm)
}

// put writes a new object under a key no other request uses.
func (r *s3Run) put(ctx context.Context, w *worker) (string, int64, error) {
	key := fmt.Sprintf("%sput/%d-%d", r.prefix, w.id, w.seq)
	return "PUT", int64(len(r.payload)), r.putKey(ctx, key)
}

// get reads the preloaded objects round-robin and the whole body of each.
func (r *s3Run) get(ctx context.Context, w *worker) (string, int64, error) {
	i := (r.next.Add(1) - 1) % uint64(r.cfg.Objects)
	return r.getKey(ctx, w, r.key(i))
}

func (r *s3Run) getKey(ctx context.Context, w *worker, key string) (string, int64, error) {
	in := &s3.GetObjectInput{Bucket: &r.bucket, Key: &key}
	r.sse.get(in)
	out, err := r.c.GetObject(ctx, in)
	if err != nil {
		return "GET", 0, err
	}
	defer out.Body.Close()
	if err := r.sse.confirmed(out.ServerSideEncryption, out.SSECustomerAlgorithm); err != nil && r.sse.mode == "c" {
		return "GET", 0, err
	}
	n, err := io.CopyBuffer(io.Discard, out.Body, w.buf)
	if err != nil {
		return "GET", n, err
	}
	if n != int64(len(r.payload)) {
		return "GET", n, &shortReadError{got: n, want: int64(len(r.payload))}
	}
	return "GET", n, nil
}

// mixed is mixedGetShare GETs and the rest PUTs that overwrite preloaded objects, both at
// random over the preloaded keys.
func (r *s3Run) mixed(ctx context.Context, w *worker) (string, int64, error) {
	key := r.key(w.rng.Uint64N(uint64(r.cfg.Objects)))
	if w.rng.Float64() < mixedGetShare {
		return r.getKey(ctx, w, key)
	}
	return "PUT", int64(len(r.payload)), r.putKey(ctx, key)
}

// list asks for one ListObjectsV2 page; each worker walks the whole listing and starts over.
func (r *s3Run) list(ctx context.Context, w *worker) (string, int64, error) {
	in := &s3.ListObjectsV2Input{
		Bucket:            &r.bucket,
		Prefix:            &r.prefix,
		MaxKeys:           aws.Int32(int32(r.cfg.PageSize)),
		ContinuationToken: w.token,
	}
	out, err := r.c.ListObjectsV2(ctx, in)
	if err != nil {
		w.token = nil
		return "LIST", 0, err
	}
	w.token = nil
	if aws.ToBool(out.IsTruncated) {
		w.token = out.NextContinuationToken
	}
	return "LIST", 0, nil
}

// cleanup deletes what the run wrote (and its bucket, if it made it) unless --keep.
func (r *s3Run) cleanup(ctx context.Context) error {
	if r.cfg.Keep || r.cfg.Reuse {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := r.deletePrefix(ctx); err != nil {
		return fmt.Errorf("clean up %s/%s: %s", r.bucket, r.prefix, oneLine(err))
	}
	if r.cfg.Bucket == "" {
		if _, err := r.c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &r.bucket}); err != nil {
			return fmt.Errorf("delete bucket %s: %s", r.bucket, oneLine(err))
		}
	}
	return nil
}

// deletePrefix lists the run's keys and deletes them in batches of 1000, several batches at
// a time.
func (r *s3Run) deletePrefix(ctx context.Context) error {
	batches := make(chan []types.ObjectIdentifier)
	errs := make(chan error, r.cfg.Concurrency)
	var wg sync.WaitGroup
	for range r.cfg.Concurrency {
		wg.Go(func() {
			for b := range batches {
				out, err := r.c.DeleteObjects(ctx, &s3.DeleteObjectsInput{
					Bucket: &r.bucket, Delete: &types.Delete{Objects: b, Quiet: aws.Bool(true)},
				})
				if err == nil && len(out.Errors) > 0 {
					e := out.Errors[0]
					err = fmt.Errorf("delete %s: %s", aws.ToString(e.Key), aws.ToString(e.Code))
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	p := s3.NewListObjectsV2Paginator(r.c, &s3.ListObjectsV2Input{Bucket: &r.bucket, Prefix: &r.prefix})
	var listErr error
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			listErr = err
			break
		}
		if len(page.Contents) == 0 {
			continue
		}
		b := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			b[i] = types.ObjectIdentifier{Key: o.Key}
		}
		batches <- b
	}
	close(batches)
	wg.Wait()
	select {
	case err := <-errs:
		return errors.Join(listErr, err)
	default:
		return listErr
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
