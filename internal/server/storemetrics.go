package server

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/meta"
)

// The stores the object service uses, timed: each call is observed in
// coffer_store_duration_seconds, and a failure that is not one of the store's defined answers
// (nor the error of a condition or update function the caller gave) counts in
// coffer_store_failures_total. Decorators, so that no backend knows about metrics and every
// backend is measured alike.

// expectedStoreAnswer reports the errors the store interfaces define as answers, and a
// caller going away: none of them says the backend is in trouble.
func expectedStoreAnswer(err error) bool {
	for _, e := range []error{meta.ErrBucketExists, meta.ErrNoSuchBucket, meta.ErrBucketNotEmpty, meta.ErrNoSuchKey,
		meta.ErrNoSuchUpload, meta.ErrPartChanged, meta.ErrObjectChanged,
		blob.ErrNotFound, blob.ErrExists, blob.ErrInvalidName, blob.ErrNoInfo,
		kms.ErrStoreNoSuchKey, kms.ErrStoreKeyExists, kms.ErrStoreNoSuchAlias, kms.ErrStoreAliasExists, kms.ErrStoreNoSuchGrant,
		kms.ErrStoreNoSuchKeyStore, kms.ErrStoreAliasNoTarget, kms.ErrStoreQuota,
		context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// storeCall is one timed call; done observes it.
type storeCall struct {
	m         *serverMetrics
	store, op string
	start     time.Time
	callerErr error // the last error a caller's function returned inside the call
}

func (m *serverMetrics) storeCall(store, op string) *storeCall {
	return &storeCall{m: m, store: store, op: op, start: time.Now()}
}

func (c *storeCall) done(err error) {
	c.m.storeDuration.With(c.store, c.op).Observe(time.Since(c.start).Seconds())
	if err != nil && !expectedStoreAnswer(err) && (c.callerErr == nil || !errors.Is(err, c.callerErr)) {
		c.m.storeFailures.With(c.store, c.op).Inc()
	}
}

// caller notes err, returned by a function the caller gave, as the caller's, and returns it.
func (c *storeCall) caller(err error) error {
	if err != nil {
		c.callerErr = err
	}
	return err
}

// conds wraps a caller's conditions so that their errors are known as the caller's.
func (c *storeCall) conds(cs []meta.Condition) []meta.Condition {
	out := make([]meta.Condition, len(cs))
	for i, f := range cs {
		out[i] = func(o *meta.Object) error {
			err := f(o)
			if err != nil {
				c.callerErr = err
			}
			return err
		}
	}
	return out
}

// timedMeta is a meta.Store whose calls are timed.
type timedMeta struct {
	s meta.Store
	m *serverMetrics
}

var _ meta.Store = timedMeta{}

func (t timedMeta) CreateBucket(ctx context.Context, b meta.Bucket) error {
	c := t.m.storeCall("meta", "CreateBucket")
	err := t.s.CreateBucket(ctx, b)
	c.done(err)
	return err
}

func (t timedMeta) GetBucket(ctx context.Context, name string) (meta.Bucket, error) {
	c := t.m.storeCall("meta", "GetBucket")
	b, err := t.s.GetBucket(ctx, name)
	c.done(err)
	return b, err
}

func (t timedMeta) DeleteBucket(ctx context.Context, name string) ([]meta.Part, error) {
	c := t.m.storeCall("meta", "DeleteBucket")
	p, err := t.s.DeleteBucket(ctx, name)
	c.done(err)
	return p, err
}

func (t timedMeta) ListBuckets(ctx context.Context) ([]meta.Bucket, error) {
	c := t.m.storeCall("meta", "ListBuckets")
	b, err := t.s.ListBuckets(ctx)
	c.done(err)
	return b, err
}

func (t timedMeta) UpdateBucket(ctx context.Context, name string, fn func(*meta.Bucket) error) error {
	c := t.m.storeCall("meta", "UpdateBucket")
	err := t.s.UpdateBucket(ctx, name, func(b *meta.Bucket) error {
		err := fn(b)
		if err != nil {
			c.callerErr = err
		}
		return err
	})
	c.done(err)
	return err
}

func (t timedMeta) PutObject(ctx context.Context, o meta.Object, cond ...meta.Condition) (*meta.Object, error) {
	c := t.m.storeCall("meta", "PutObject")
	r, err := t.s.PutObject(ctx, o, c.conds(cond)...)
	c.done(err)
	return r, err
}

func (t timedMeta) GetObject(ctx context.Context, bucket, key string) (meta.Object, error) {
	c := t.m.storeCall("meta", "GetObject")
	o, err := t.s.GetObject(ctx, bucket, key)
	c.done(err)
	return o, err
}

func (t timedMeta) DeleteObject(ctx context.Context, bucket, key string, cond ...meta.Condition) (meta.Object, error) {
	c := t.m.storeCall("meta", "DeleteObject")
	o, err := t.s.DeleteObject(ctx, bucket, key, c.conds(cond)...)
	c.done(err)
	return o, err
}

func (t timedMeta) ListObjects(ctx context.Context, bucket string, opt meta.ListOptions) ([]meta.Object, error) {
	c := t.m.storeCall("meta", "ListObjects")
	o, err := t.s.ListObjects(ctx, bucket, opt)
	c.done(err)
	return o, err
}

func (t timedMeta) ReplaceEncryption(ctx context.Context, read meta.Object, enc *meta.Encryption) error {
	c := t.m.storeCall("meta", "ReplaceEncryption")
	err := t.s.ReplaceEncryption(ctx, read, enc)
	c.done(err)
	return err
}

func (t timedMeta) CreateUpload(ctx context.Context, u meta.Upload) error {
	c := t.m.storeCall("meta", "CreateUpload")
	err := t.s.CreateUpload(ctx, u)
	c.done(err)
	return err
}

func (t timedMeta) GetUpload(ctx context.Context, bucket, key, uploadID string) (meta.Upload, error) {
	c := t.m.storeCall("meta", "GetUpload")
	u, err := t.s.GetUpload(ctx, bucket, key, uploadID)
	c.done(err)
	return u, err
}

func (t timedMeta) PutPart(ctx context.Context, bucket, key, uploadID string, p meta.Part) (*meta.Part, error) {
	c := t.m.storeCall("meta", "PutPart")
	r, err := t.s.PutPart(ctx, bucket, key, uploadID, p)
	c.done(err)
	return r, err
}

func (t timedMeta) ListParts(ctx context.Context, bucket, key, uploadID string, after, limit int) ([]meta.Part, error) {
	c := t.m.storeCall("meta", "ListParts")
	p, err := t.s.ListParts(ctx, bucket, key, uploadID, after, limit)
	c.done(err)
	return p, err
}

func (t timedMeta) ListUploads(ctx context.Context, bucket string, opt meta.ListOptions, afterUploadID string) ([]meta.Upload, error) {
	c := t.m.storeCall("meta", "ListUploads")
	u, err := t.s.ListUploads(ctx, bucket, opt, afterUploadID)
	c.done(err)
	return u, err
}

func (t timedMeta) AbortUpload(ctx context.Context, bucket, key, uploadID string) ([]meta.Part, error) {
	c := t.m.storeCall("meta", "AbortUpload")
	p, err := t.s.AbortUpload(ctx, bucket, key, uploadID)
	c.done(err)
	return p, err
}

func (t timedMeta) CompleteUpload(ctx context.Context, uploadID string, o meta.Object, cond ...meta.Condition) (*meta.Object, []meta.Part, error) {
	c := t.m.storeCall("meta", "CompleteUpload")
	r, unused, err := t.s.CompleteUpload(ctx, uploadID, o, c.conds(cond)...)
	c.done(err)
	return r, unused, err
}

func (t timedMeta) RecordIntent(ctx context.Context, in meta.Intent) error {
	c := t.m.storeCall("meta", "RecordIntent")
	err := t.s.RecordIntent(ctx, in)
	c.done(err)
	return err
}

func (t timedMeta) DropIntent(ctx context.Context, name string) error {
	c := t.m.storeCall("meta", "DropIntent")
	err := t.s.DropIntent(ctx, name)
	c.done(err)
	return err
}

func (t timedMeta) ListIntents(ctx context.Context, before time.Time, limit int) ([]meta.Intent, error) {
	c := t.m.storeCall("meta", "ListIntents")
	in, err := t.s.ListIntents(ctx, before, limit)
	c.done(err)
	return in, err
}

func (t timedMeta) Close() error { return t.s.Close() }

// timedBlobs is a blob.Store whose calls are timed. Open is timed until the reader is
// returned, not while it is read.
type timedBlobs struct {
	s blob.Store
	m *serverMetrics
}

var (
	_ blob.Store      = timedBlobs{}
	_ blob.InfoLister = timedBlobs{}
)

func (t timedBlobs) Put(ctx context.Context, name string, r io.Reader) (int64, error) {
	c := t.m.storeCall("blob", "Put")
	n, err := t.s.Put(ctx, name, r)
	c.done(err)
	return n, err
}

func (t timedBlobs) Open(ctx context.Context, name string) (blob.Reader, error) {
	c := t.m.storeCall("blob", "Open")
	r, err := t.s.Open(ctx, name)
	c.done(err)
	return r, err
}

func (t timedBlobs) Delete(ctx context.Context, name string) error {
	c := t.m.storeCall("blob", "Delete")
	err := t.s.Delete(ctx, name)
	c.done(err)
	return err
}

func (t timedBlobs) List(ctx context.Context, prefix string, fn func(name string, size int64) error) error {
	c := t.m.storeCall("blob", "List")
	err := t.s.List(ctx, prefix, func(name string, size int64) error {
		err := fn(name, size)
		if err != nil {
			c.callerErr = err
		}
		return err
	})
	c.done(err)
	return err
}

// ListInfo passes on the store's ListInfo, or blob.ErrNoInfo when it has none, as
// blob.ListInfo would for the store itself.
func (t timedBlobs) ListInfo(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	c := t.m.storeCall("blob", "ListInfo")
	err := blob.ListInfo(ctx, t.s, prefix, func(i blob.Info) error {
		err := fn(i)
		if err != nil {
			c.callerErr = err
		}
		return err
	})
	c.done(err)
	return err
}
