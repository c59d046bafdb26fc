package boltmeta

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/metarec"
)

var keyUploadRec = []byte("u")

// uploadKey encodes (object key, upload id) so that bbolt's byte order is the order of
// ListUploads: each 0x00 of the key becomes 0x00 0x01 and the key ends with 0x00 0x00. A key
// that is a prefix of another then sorts first, whatever bytes either contains.
func uploadKey(key, id string) []byte {
	b := make([]byte, 0, len(key)+2+len(id))
	for i := 0; i < len(key); i++ {
		b = append(b, key[i])
		if key[i] == 0 {
			b = append(b, 1)
		}
	}
	b = append(b, 0, 0)
	return append(b, id...)
}

// splitUploadKey reverses uploadKey.
func splitUploadKey(b []byte) (key, id string, ok bool) {
	k := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			k = append(k, b[i])
			continue
		}
		if i+1 >= len(b) {
			return "", "", false
		}
		switch b[i+1] {
		case 0:
			return string(k), string(b[i+2:]), true
		case 1:
			k = append(k, 0)
			i++
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// escapedPrefix is the encoding of a key prefix: every upload key of a key with that prefix
// starts with it.
func escapedPrefix(prefix string) []byte {
	k := uploadKey(prefix, "")
	return k[:len(k)-2]
}

func partKey(n int) []byte {
	k := make([]byte, 5)
	k[0] = 'p'
	binary.BigEndian.PutUint32(k[1:], uint32(n))
	return k
}

// uploadOf returns the nested bucket of an upload (ErrNoSuchUpload, also when the S3 bucket is
// gone, wrapped together with ErrNoSuchBucket so callers can tell).
func uploadOf(tx *bolt.Tx, bucket, key, id string) (*bolt.Bucket, error) {
	bk := bucketOf(tx, bucket)
	if bk == nil {
		return nil, fmt.Errorf("%w: %w", meta.ErrNoSuchUpload, meta.ErrNoSuchBucket)
	}
	if key == "" || id == "" {
		return nil, meta.ErrNoSuchUpload
	}
	u := bk.Bucket(keyUploads).Bucket(uploadKey(key, id))
	if u == nil {
		return nil, meta.ErrNoSuchUpload
	}
	return u, nil
}

// partsOf returns every part of an upload by ascending number.
func partsOf(u *bolt.Bucket) ([]meta.Part, error) {
	var out []meta.Part
	c := u.Cursor()
	for k, v := c.Seek([]byte{'p'}); k != nil && k[0] == 'p'; k, v = c.Next() {
		p, err := metarec.DecodePart(v)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// CreateUpload implements meta.Store.
func (s *Store) CreateUpload(ctx context.Context, u meta.Upload) error {
	if err := checkKey(u.Key); err != nil {
		return err
	}
	if u.UploadID == "" || len(u.UploadID) > 1024 {
		return fmt.Errorf("boltmeta: upload id of %d bytes not storable", len(u.UploadID))
	}
	rec, err := metarec.EncodeUpload(u)
	if err != nil {
		return err
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		bk := bucketOf(tx, u.Bucket)
		if bk == nil {
			return meta.ErrNoSuchBucket
		}
		ub, err := bk.Bucket(keyUploads).CreateBucket(uploadKey(u.Key, u.UploadID))
		if err != nil {
			return err // an id reused for the same key is the caller's bug
		}
		return ub.Put(keyUploadRec, rec)
	})
	if err != nil {
		return fmt.Errorf("boltmeta: create upload %q/%q: %w", u.Bucket, u.Key, err)
	}
	return nil
}

// GetUpload implements meta.Store.
func (s *Store) GetUpload(ctx context.Context, bucket, key, uploadID string) (meta.Upload, error) {
	var u meta.Upload
	err := s.view(ctx, func(tx *bolt.Tx) error {
		ub, err := uploadOf(tx, bucket, key, uploadID)
		if err != nil {
			return err
		}
		u, err = metarec.DecodeUpload(bucket, key, uploadID, ub.Get(keyUploadRec))
		return err
	})
	if err != nil {
		return meta.Upload{}, fmt.Errorf("boltmeta: get upload %q/%q: %w", bucket, key, err)
	}
	return u, nil
}

// PutPart implements meta.Store.
func (s *Store) PutPart(ctx context.Context, bucket, key, uploadID string, p meta.Part) (*meta.Part, error) {
	if p.Number < 0 || p.Number > math.MaxUint32 {
		return nil, fmt.Errorf("boltmeta: part number %d out of range", p.Number)
	}
	rec, err := metarec.EncodePart(p)
	if err != nil {
		return nil, err
	}
	var replaced *meta.Part
	err = s.update(ctx, func(tx *bolt.Tx) error {
		ub, err := uploadOf(tx, bucket, key, uploadID)
		if err != nil {
			return err
		}
		replaced = nil
		pk := partKey(p.Number)
		if old := ub.Get(pk); old != nil {
			r, err := metarec.DecodePart(old)
			if err != nil {
				return err
			}
			replaced = &r
		}
		if err := ub.Put(pk, rec); err != nil {
			return err
		}
		return dropIntent(tx, p.Blob)
	})
	if err != nil {
		return nil, fmt.Errorf("boltmeta: put part %d of %q/%q: %w", p.Number, bucket, key, err)
	}
	return replaced, nil
}

// ListParts implements meta.Store.
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string, after, limit int) ([]meta.Part, error) {
	var out []meta.Part
	err := s.view(ctx, func(tx *bolt.Tx) error {
		ub, err := uploadOf(tx, bucket, key, uploadID)
		if err != nil {
			return err
		}
		if after >= math.MaxUint32 {
			return nil
		}
		c := ub.Cursor()
		for k, v := c.Seek(partKey(max(after+1, 0))); k != nil && k[0] == 'p'; k, v = c.Next() {
			if limit > 0 && len(out) >= limit {
				break
			}
			p, err := metarec.DecodePart(v)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltmeta: list parts of %q/%q: %w", bucket, key, err)
	}
	return out, nil
}

// ListUploads implements meta.Store.
func (s *Store) ListUploads(ctx context.Context, bucket string, opt meta.ListOptions, afterUploadID string) ([]meta.Upload, error) {
	var out []meta.Upload
	err := s.view(ctx, func(tx *bolt.Tx) error {
		bk := bucketOf(tx, bucket)
		if bk == nil {
			return meta.ErrNoSuchBucket
		}
		prefix := escapedPrefix(opt.Prefix)
		start := prefix
		if opt.After >= opt.Prefix {
			if m := uploadKey(opt.After, afterUploadID); bytes.Compare(m, start) > 0 {
				start = m
			}
		}
		ups := bk.Bucket(keyUploads)
		c := ups.Cursor()
		for k, _ := c.Seek(start); k != nil; k, _ = c.Next() {
			if !bytes.HasPrefix(k, prefix) {
				break
			}
			key, id, ok := splitUploadKey(k)
			if !ok {
				return metarec.ErrBadRecord
			}
			if key < opt.After || key == opt.After && id <= afterUploadID {
				continue
			}
			if opt.Limit > 0 && len(out) >= opt.Limit {
				break
			}
			u, err := metarec.DecodeUpload(bucket, key, id, ups.Bucket(k).Get(keyUploadRec))
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltmeta: list uploads %q prefix %q: %w", bucket, opt.Prefix, err)
	}
	return out, nil
}

// AbortUpload implements meta.Store.
func (s *Store) AbortUpload(ctx context.Context, bucket, key, uploadID string) ([]meta.Part, error) {
	var parts []meta.Part
	err := s.update(ctx, func(tx *bolt.Tx) error {
		ub, err := uploadOf(tx, bucket, key, uploadID)
		if err != nil {
			return err
		}
		if parts, err = partsOf(ub); err != nil {
			return err
		}
		return bucketOf(tx, bucket).Bucket(keyUploads).DeleteBucket(uploadKey(key, uploadID))
	})
	if err != nil {
		return nil, fmt.Errorf("boltmeta: abort upload of %q/%q: %w", bucket, key, err)
	}
	return parts, nil
}

// CompleteUpload implements meta.Store.
func (s *Store) CompleteUpload(ctx context.Context, uploadID string, o meta.Object, cond ...meta.Condition) (*meta.Object, []meta.Part, error) {
	if err := checkKey(o.Key); err != nil {
		return nil, nil, err
	}
	rec, err := metarec.EncodeObject(o)
	if err != nil {
		return nil, nil, err
	}
	var (
		replaced *meta.Object
		free     []meta.Part
	)
	err = s.update(ctx, func(tx *bolt.Tx) error {
		ub, err := uploadOf(tx, o.Bucket, o.Key, uploadID)
		if err != nil {
			return err
		}
		parts, err := partsOf(ub)
		if err != nil {
			return err
		}
		if free, err = meta.SplitCompletion(parts, o); err != nil {
			return err
		}
		bk := bucketOf(tx, o.Bucket)
		// Conditions are judged before the first write, so a refusal needs no rollback.
		if err := checkConditions(bk, o.Bucket, o.Key, cond); err != nil {
			return err
		}
		if err := bk.Bucket(keyUploads).DeleteBucket(uploadKey(o.Key, uploadID)); err != nil {
			return err
		}
		if replaced, err = putObject(bk, o, rec, nil, nil); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("boltmeta: complete upload of %q/%q: %w", o.Bucket, o.Key, err)
	}
	return replaced, free, nil
}
