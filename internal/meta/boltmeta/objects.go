package boltmeta

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/metarec"
)

// checkKey rejects keys bbolt cannot store. S3 keys are at most 1024 bytes; the bound leaves
// room for the upload key encoding.
func checkKey(key string) error {
	if key == "" || len(key) > bolt.MaxKeySize/4 {
		return fmt.Errorf("boltmeta: object key of %d bytes not storable", len(key))
	}
	return nil
}

// objectsOf returns the objects bucket of the named S3 bucket (meta.ErrNoSuchBucket).
func objectsOf(tx *bolt.Tx, bucket string) (*bolt.Bucket, error) {
	bk := bucketOf(tx, bucket)
	if bk == nil {
		return nil, meta.ErrNoSuchBucket
	}
	return bk.Bucket(keyObjects), nil
}

// putObject stores o in objs and returns the record it replaced, if any.
func putObject(bk *bolt.Bucket, o meta.Object, rec, inline []byte, cond []meta.Condition) (*meta.Object, error) {
	objs := bk.Bucket(keyObjects)
	var replaced *meta.Object
	if old := objs.Get([]byte(o.Key)); old != nil {
		r, err := metarec.DecodeObject(o.Bucket, o.Key, old)
		if err != nil {
			return nil, err
		}
		replaced = &r
	}
	for _, c := range cond {
		if err := c(replaced); err != nil {
			return nil, refuse(err)
		}
	}
	if err := objs.Put([]byte(o.Key), rec); err != nil {
		return nil, err
	}
	return replaced, setInline(bk, o.Key, inline)
}

// checkConditions runs cond against the current object of key (nil if none), marking a
// failure as a refusal made before any write.
func checkConditions(bk *bolt.Bucket, bucket, key string, cond []meta.Condition) error {
	if len(cond) == 0 {
		return nil
	}
	var cur *meta.Object
	if v := bk.Bucket(keyObjects).Get([]byte(key)); v != nil {
		o, err := metarec.DecodeObject(bucket, key, v)
		if err != nil {
			return err
		}
		cur = &o
	}
	for _, c := range cond {
		if err := c(cur); err != nil {
			return refuse(err)
		}
	}
	return nil
}

// keyData names the sub-bucket holding small objects' inline bytes, apart from their records
// so that listings never read them. It is made on first use.
var keyData = []byte("d")

// setInline stores (or, for none, removes) the inline bytes of key.
func setInline(bk *bolt.Bucket, key string, inline []byte) error {
	if len(inline) == 0 {
		if d := bk.Bucket(keyData); d != nil {
			return d.Delete([]byte(key))
		}
		return nil
	}
	d, err := bk.CreateBucketIfNotExists(keyData)
	if err != nil {
		return err
	}
	return d.Put([]byte(key), inline)
}

// getInline returns the inline bytes of key, nil if it has none.
func getInline(bk *bolt.Bucket, key string) []byte {
	if d := bk.Bucket(keyData); d != nil {
		return d.Get([]byte(key))
	}
	return nil
}

// PutObject implements meta.Store.
func (s *Store) PutObject(ctx context.Context, o meta.Object, cond ...meta.Condition) (*meta.Object, error) {
	if err := checkKey(o.Key); err != nil {
		return nil, err
	}
	rec, inline, err := metarec.EncodeObjectData(o)
	if err != nil {
		return nil, err
	}
	var replaced *meta.Object
	err = s.update(ctx, func(tx *bolt.Tx) error {
		if _, err := objectsOf(tx, o.Bucket); err != nil {
			return err
		}
		if replaced, err = putObject(bucketOf(tx, o.Bucket), o, rec, inline, cond); err != nil {
			return err
		}
		for _, p := range o.Parts {
			if err := dropIntent(tx, p.Blob); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltmeta: put object %q/%q: %w", o.Bucket, o.Key, err)
	}
	return replaced, nil
}

// readObject reads an object with its inline bytes (meta.ErrNoSuchBucket, meta.ErrNoSuchKey).
func readObject(tx *bolt.Tx, bucket, key string) (meta.Object, error) {
	objs, err := objectsOf(tx, bucket)
	if err != nil {
		return meta.Object{}, err
	}
	v := objs.Get([]byte(key))
	if v == nil || key == "" {
		return meta.Object{}, meta.ErrNoSuchKey
	}
	return metarec.DecodeObjectData(bucket, key, v, getInline(bucketOf(tx, bucket), key))
}

// GetObject implements meta.Store.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (meta.Object, error) {
	var o meta.Object
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		o, err = readObject(tx, bucket, key)
		return err
	})
	if err != nil {
		return meta.Object{}, fmt.Errorf("boltmeta: get object %q/%q: %w", bucket, key, err)
	}
	return o, nil
}

// DeleteObject implements meta.Store.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string, cond ...meta.Condition) (meta.Object, error) {
	var o meta.Object
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var err error
		if o, err = readObject(tx, bucket, key); err != nil {
			return err
		}
		bk := bucketOf(tx, bucket)
		for _, c := range cond {
			if err := c(&o); err != nil {
				return refuse(err)
			}
		}
		if err := setInline(bk, key, nil); err != nil {
			return err
		}
		return bk.Bucket(keyObjects).Delete([]byte(key))
	})
	if err != nil {
		return meta.Object{}, fmt.Errorf("boltmeta: delete object %q/%q: %w", bucket, key, err)
	}
	return o, nil
}

// ReplaceEncryption implements meta.Store. Only the object record is rewritten: inline bytes,
// kept apart from it, stay as they are.
func (s *Store) ReplaceEncryption(ctx context.Context, read meta.Object, enc *meta.Encryption) error {
	if enc == nil {
		return fmt.Errorf("boltmeta: replace encryption of %q/%q: no record given", read.Bucket, read.Key)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		cur, err := readObject(tx, read.Bucket, read.Key)
		if err != nil {
			return err
		}
		if !meta.SameWrite(cur, read) {
			return refuse(meta.ErrObjectChanged)
		}
		cur.Encryption = enc
		rec, _, err := metarec.EncodeObjectData(cur)
		if err != nil {
			return err
		}
		return bucketOf(tx, read.Bucket).Bucket(keyObjects).Put([]byte(read.Key), rec)
	})
	if err != nil {
		return fmt.Errorf("boltmeta: replace encryption of %q/%q: %w", read.Bucket, read.Key, err)
	}
	return nil
}

// ListObjects implements meta.Store. It seeks straight to the first candidate key, so a page
// costs O(log n + limit) whatever the bucket size, and skipping a common prefix by passing
// After = prefix + "\xff" is as cheap as any other page.
func (s *Store) ListObjects(ctx context.Context, bucket string, opt meta.ListOptions) ([]meta.Object, error) {
	var out []meta.Object
	err := s.view(ctx, func(tx *bolt.Tx) error {
		objs, err := objectsOf(tx, bucket)
		if err != nil {
			return err
		}
		prefix, after := []byte(opt.Prefix), []byte(opt.After)
		start := prefix
		if opt.After != "" && opt.After >= opt.Prefix {
			start = after
		}
		c := objs.Cursor()
		for k, v := c.Seek(start); k != nil; k, v = c.Next() {
			if !bytes.HasPrefix(k, prefix) {
				break
			}
			if opt.After != "" && bytes.Compare(k, after) <= 0 {
				continue
			}
			if opt.Limit > 0 && len(out) >= opt.Limit {
				break
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			o, err := metarec.DecodeObject(bucket, string(k), v)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltmeta: list objects %q prefix %q: %w", bucket, opt.Prefix, err)
	}
	return out, nil
}
