package boltmeta

import (
	"fmt"

	"github.com/coffer/coffer/internal/meta/metarec"
	bolt "go.etcd.io/bbolt"
)

// BlobRef is a blob that a record or an intent names.
type BlobRef struct {
	Blob string
	Size int64 // the size the record gives; -1 for an intent
	// Encrypted says Size is the plaintext size of an encrypted blob, whose stored size is
	// its ciphertext size (internal/sse).
	Encrypted bool
	Intent    bool   // named by an intent (write or freed), not by a record
	Where     string // the record, for messages
}

// Check reads every record of the store kept in db (which may be read-only) without changing
// anything: it calls finding for each record that cannot be decoded and ref for each blob that
// a record or an intent names. It does not guard against faults: run it under
// boltfile.Safely, after boltfile.Verify found the pages sound.
func Check(db *bolt.DB, finding func(string), ref func(BlobRef)) error {
	return db.View(func(tx *bolt.Tx) error {
		top := tx.Bucket(topBuckets)
		if top == nil {
			finding(fmt.Sprintf("meta.db: top-level bucket %s is missing", topBuckets))
			return nil
		}
		err := top.ForEachBucket(func(name []byte) error {
			checkBucket(top.Bucket(name), string(name), finding, ref)
			return nil
		})
		if err != nil {
			return err
		}
		intents := tx.Bucket(topIntents)
		if intents == nil {
			return nil // a file from before intents, opened read-only
		}
		return intents.ForEach(func(k, v []byte) error {
			in, err := metarec.DecodeIntent(string(k), v)
			if err != nil {
				finding(fmt.Sprintf("intent %q: %v", k, err))
				return nil
			}
			ref(BlobRef{Blob: string(k), Size: -1, Intent: true, Where: in.Kind.String() + " intent"})
			return nil
		})
	})
}

func checkBucket(bk *bolt.Bucket, name string, finding func(string), ref func(BlobRef)) {
	where := "bucket " + name
	if _, err := metarec.DecodeBucket(name, bk.Get(keyRec)); err != nil {
		finding(fmt.Sprintf("%s: bucket record: %v", where, err))
	}
	objs, ups := bk.Bucket(keyObjects), bk.Bucket(keyUploads)
	if objs == nil || ups == nil {
		finding(fmt.Sprintf("%s: its object or upload index is missing", where))
		return
	}
	_ = objs.ForEach(func(k, v []byte) error {
		o, err := metarec.DecodeObjectData(name, string(k), v, getInline(bk, string(k)))
		if err != nil {
			finding(fmt.Sprintf("%s: object %q: %v", where, k, err))
			return nil
		}
		for _, p := range o.Parts {
			if p.Blob != "" {
				ref(BlobRef{Blob: p.Blob, Size: p.Size, Encrypted: o.Encryption != nil, Where: fmt.Sprintf("object %s/%s", name, k)})
			}
		}
		return nil
	})
	_ = ups.ForEachBucket(func(uk []byte) error {
		key, id, ok := splitUploadKey(uk)
		ub := ups.Bucket(uk)
		if !ok {
			finding(fmt.Sprintf("%s: upload entry %q has a damaged name", where, uk))
			return nil
		}
		upWhere := fmt.Sprintf("upload %s of %s/%s", id, name, key)
		u, err := metarec.DecodeUpload(name, key, id, ub.Get(keyUploadRec))
		if err != nil {
			finding(fmt.Sprintf("%s: upload record: %v", upWhere, err))
		}
		c := ub.Cursor()
		for k, v := c.Seek([]byte{'p'}); k != nil && k[0] == 'p'; k, v = c.Next() {
			p, err := metarec.DecodePart(v)
			if err != nil {
				finding(fmt.Sprintf("%s: part record %x: %v", upWhere, k[1:], err))
				continue
			}
			ref(BlobRef{Blob: p.Blob, Size: p.Size, Encrypted: u.Encryption != nil, Where: fmt.Sprintf("part %d of %s", p.Number, upWhere)})
		}
		return nil
	})
}
