package migrate

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/fsblob"
	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/iamrec"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
	"github.com/coffer/coffer/internal/meta/boltmeta"
	"github.com/coffer/coffer/internal/server"
)

// embedded is an embedded data directory: meta.db (the bbolt layouts of boltmeta, kmsbolt,
// boltiam and bolttrail, read and written here bucket by bucket), the shred slot file and the
// blob directory.
type embedded struct {
	dir   string
	db    *bolt.DB
	blobs blob.Store
}

func metaDBPath(dir string) string     { return filepath.Join(dir, "meta.db") }
func shredSlotsPath(dir string) string { return filepath.Join(dir, "kms", "shred.slots") }

// openEmbeddedSource opens dir for reading: meta.db read-only (refused while a server holds
// it) after a check of every page, and its blobs without changing anything.
func openEmbeddedSource(dir string) (*embedded, error) {
	db, err := boltfile.OpenReadOnly(metaDBPath(dir))
	if err != nil {
		return nil, fmt.Errorf("%s (is a server running on it?): %w", metaDBPath(dir), err)
	}
	if findings := boltfile.Verify(db, server.TopBuckets()); len(findings) > 0 {
		db.Close()
		return nil, fmt.Errorf("%s is damaged (`coffer admin check --data %s` lists what): %s", metaDBPath(dir), dir, findings[0])
	}
	blobs, err := fsblob.Inspect(filepath.Join(dir, "blobs"))
	if err != nil {
		db.Close()
		return nil, err
	}
	return &embedded{dir: dir, db: db, blobs: blobs}, nil
}

// openEmbeddedTarget opens dir for writing. It refuses a directory whose meta.db holds any
// record, or that has a shred slot file: records are never merged into another server's. A
// meta.db without records (left by a run interrupted before its one transaction committed)
// is taken.
func openEmbeddedTarget(dir string) (*embedded, error) {
	if _, err := os.Stat(shredSlotsPath(dir)); err == nil {
		return nil, fmt.Errorf("%w: %s exists; give a new directory, or remove %s and %s if they are left by an interrupted migration (blobs already copied are checked and kept)",
			ErrNotEmpty, shredSlotsPath(dir), metaDBPath(dir), shredSlotsPath(dir))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "kms"), 0o700); err != nil {
		return nil, err
	}
	db, err := boltfile.Open(metaDBPath(dir), server.TopBuckets())
	if err != nil {
		return nil, err
	}
	if err := boltfile.CreateBuckets(db, server.TopBuckets()); err != nil {
		db.Close()
		return nil, err
	}
	if err := noRecords(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: %s %v; give a new directory, or remove %s if it is left by an interrupted migration",
			ErrNotEmpty, metaDBPath(dir), err, metaDBPath(dir))
	}
	blobs, err := fsblob.New(filepath.Join(dir, "blobs"))
	if err != nil {
		db.Close()
		return nil, err
	}
	return &embedded{dir: dir, db: db, blobs: blobs}, nil
}

// noRecords fails if a top-level bucket of db other than the format record's holds anything.
func noRecords(db *bolt.DB) error {
	return db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if k, _ := b.Cursor().First(); k != nil && !bytes.Equal(name, bFormat) {
				return fmt.Errorf("holds records (in %s)", name)
			}
			return nil
		})
	})
}

func (e *embedded) name() string          { return e.dir }
func (e *embedded) blobStore() blob.Store { return e.blobs }
func (e *embedded) close() error          { return e.db.Close() }

// The top-level buckets of meta.db and what is in them. Buckets holding only indexes of
// other buckets' records are rebuilt by put, not read.
var (
	bS3Buckets     = []byte("s3.buckets")
	bS3Intents     = []byte("s3.intents")
	bKMSKeys       = []byte("kms.keys")
	bKMSByAccount  = []byte("kms.keys.acct") // index: account 0 key id
	bKMSAliases    = []byte("kms.aliases")
	bKMSGrants     = []byte("kms.grants")
	bKMSRoot       = []byte("kms.root")
	bKMSKeyStores  = []byte("kms.keystores")
	bKMSKeyCount   = []byte("kms.keys.count")
	bKMSUsage      = []byte("kms.usage")
	bIAMAccounts   = []byte("iam.accounts")
	bIAMUsers      = []byte("iam.users")
	bIAMRoles      = []byte("iam.roles")
	bIAMKeys       = []byte("iam.keys")
	bIAMKeysOwner  = []byte("iam.keys.owner") // index: account 0 user name 0 key id
	bIAMInline     = []byte("iam.inline")
	bIAMPolicies   = []byte("iam.policies")
	bIAMAttached   = []byte("iam.attached")
	bIAMAttachedBy = []byte("iam.attachedby") // index: account 0 policy 0 kind 0 entity
	bIAMSessions   = []byte("iam.sessions")
	bTrails        = []byte("trail.trails")
	bFormat        = []byte("coffer") // boltfile's format record, the file's own

	// flatBuckets are the buckets of plain records, in copy order: kind, and how many
	// 0-separated parts the key has.
	flatBuckets = []struct {
		name  []byte
		kind  Kind
		parts int
	}{
		{bS3Intents, KindIntent, 1},
		{bKMSKeys, KindKMSKey, 1}, {bKMSKeyCount, KindKMSKeyCount, 1}, {bKMSAliases, KindKMSAlias, 2},
		{bKMSGrants, KindKMSGrant, 2}, {bKMSKeyStores, KindKMSKeyStore, 1}, {bKMSUsage, KindKMSUsage, 1},
		{bKMSRoot, KindKMSSetting, 1},
		{bIAMAccounts, KindIAMAccount, 1}, {bIAMUsers, KindIAMUser, 2}, {bIAMRoles, KindIAMRole, 2},
		{bIAMPolicies, KindIAMPolicy, 2}, {bIAMKeys, KindIAMKey, 1}, {bIAMInline, KindIAMInline, 4},
		{bIAMAttached, KindIAMAttached, 4}, {bIAMSessions, KindIAMSession, 1},
		{bTrails, KindTrail, 2},
	}
	indexBuckets = [][]byte{bKMSByAccount, bIAMKeysOwner, bIAMAttachedBy, bFormat}
)

// Keys inside an S3 bucket's nested bucket (boltmeta's layout).
var (
	keyBucketRec    = []byte("rec")
	keyBucketPolicy = []byte("policy")
	keyObjects      = []byte("o")
	keyUploads      = []byte("u")
	keyInline       = []byte("d")
	keyUploadRec    = []byte("u")
)

// records calls fn with every record of meta.db and the shred slot file, a record after those
// it refers to. A top-level bucket or a key this code does not know fails it, so that nothing
// is left behind unnoticed.
func (e *embedded) records(ctx context.Context, fn func(Record) error) error {
	err := boltfile.Safely(func() error {
		return e.db.View(func(tx *bolt.Tx) error {
			known := [][]byte{bS3Buckets}
			for _, f := range flatBuckets {
				known = append(known, f.name)
			}
			known = append(known, indexBuckets...)
			err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				if !slices.ContainsFunc(known, func(k []byte) bool { return bytes.Equal(k, name) }) {
					return fmt.Errorf("meta.db has a top-level bucket %q that this migration does not know", name)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if err := readS3Buckets(ctx, tx.Bucket(bS3Buckets), fn); err != nil {
				return err
			}
			for _, f := range flatBuckets {
				if err := readFlat(ctx, tx.Bucket(f.name), f.kind, f.parts, fn); err != nil {
					return fmt.Errorf("%s: %w", f.name, err)
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	slots, err := kms.ReadShredSlotFile(shredSlotsPath(e.dir))
	if err != nil {
		return err
	}
	for _, s := range slots {
		if err := fn(Record{Kind: KindShredSlot, Key: uint32Key(s.Slot), Value: s.Sealed}); err != nil {
			return err
		}
	}
	return nil
}

// readFlat reads a bucket of plain records whose keys have parts 0-separated parts (the last
// part takes the rest of the key).
func readFlat(ctx context.Context, b *bolt.Bucket, kind Kind, parts int, fn func(Record) error) error {
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("unexpected nested bucket %q", k)
		}
		key := slices.Clone(k)
		if parts > 1 {
			split := bytes.SplitN(k, []byte{0}, parts)
			if len(split) != parts {
				return fmt.Errorf("key %q has %d parts, want %d", k, len(split), parts)
			}
			key = tuple(split...)
		}
		if kind == KindIAMAttached {
			v = nil // the value is empty: the key is the record
		}
		if err := fn(Record{Kind: kind, Key: key, Value: slices.Clone(v)}); err != nil {
			return err
		}
	}
	return nil
}

// readS3Buckets reads each S3 bucket: its record and policy, its objects and their inline
// bytes, its uploads and their parts.
func readS3Buckets(ctx context.Context, top *bolt.Bucket, fn func(Record) error) error {
	return top.ForEach(func(name, v []byte) error {
		if v != nil {
			return fmt.Errorf("s3.buckets: unknown entry %q", name)
		}
		bk := top.Bucket(name)
		n := slices.Clone(name)
		err := bk.ForEach(func(k, v []byte) error {
			switch {
			case v != nil && (bytes.Equal(k, keyBucketRec) || bytes.Equal(k, keyBucketPolicy)):
			case v == nil && (bytes.Equal(k, keyObjects) || bytes.Equal(k, keyUploads) || bytes.Equal(k, keyInline)):
			default:
				return fmt.Errorf("s3 bucket %q: unknown entry %q", name, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		rec := bk.Get(keyBucketRec)
		if rec == nil {
			return fmt.Errorf("s3 bucket %q has no record", name)
		}
		if err := fn(Record{Kind: KindBucket, Key: n, Value: slices.Clone(rec)}); err != nil {
			return err
		}
		if p := bk.Get(keyBucketPolicy); p != nil {
			if err := fn(Record{Kind: KindBucketPolicy, Key: n, Value: slices.Clone(p)}); err != nil {
				return err
			}
		}
		for _, sub := range []struct {
			name []byte
			kind Kind
		}{{keyObjects, KindObject}, {keyInline, KindObjectData}} {
			b := bk.Bucket(sub.name)
			if b == nil {
				continue
			}
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if err := ctx.Err(); err != nil {
					return err
				}
				if v == nil {
					return fmt.Errorf("s3 bucket %q/%s: unexpected nested bucket %q", name, sub.name, k)
				}
				if err := fn(Record{Kind: sub.kind, Key: tuple(n, k), Value: slices.Clone(v)}); err != nil {
					return err
				}
			}
		}
		if ups := bk.Bucket(keyUploads); ups != nil {
			return readUploads(ctx, name, ups, fn)
		}
		return nil
	})
}

// readUploads reads the uploads of an S3 bucket and their parts.
func readUploads(ctx context.Context, bucket []byte, ups *bolt.Bucket, fn func(Record) error) error {
	return ups.ForEach(func(uk, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		key, id, ok := boltmeta.SplitUploadKey(uk)
		if v != nil || !ok {
			return fmt.Errorf("s3 bucket %q: malformed upload entry %q", bucket, uk)
		}
		ub := ups.Bucket(uk)
		ident := [][]byte{bucket, []byte(key), []byte(id)}
		rec := ub.Get(keyUploadRec)
		if rec == nil {
			return fmt.Errorf("s3 bucket %q: upload %q of %q has no record", bucket, id, key)
		}
		if err := fn(Record{Kind: KindUpload, Key: tuple(ident...), Value: slices.Clone(rec)}); err != nil {
			return err
		}
		return ub.ForEach(func(k, v []byte) error {
			switch {
			case bytes.Equal(k, keyUploadRec):
				return nil
			case len(k) == 5 && k[0] == 'p' && v != nil:
				return fn(Record{Kind: KindPart, Key: tuple(append(ident, k[1:])...), Value: slices.Clone(v)})
			}
			return fmt.Errorf("s3 bucket %q: upload %q of %q: unknown entry %q", bucket, id, key, k)
		})
	})
}

// write stores every record next yields in meta.db, in one transaction, with the indexes
// the stores keep beside them, and then the shred slots in a new slot file.
func (e *embedded) write(ctx context.Context, next func(func(Record) error) error) error {
	var slots []kms.ShredSlot
	err := e.db.Update(func(tx *bolt.Tx) error {
		return next(func(r Record) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if r.Kind == KindShredSlot {
				if len(r.Key) != 4 {
					return fmt.Errorf("%s: malformed slot number", describe(r.Kind, r.Key))
				}
				slots = append(slots, kms.ShredSlot{Slot: binary.BigEndian.Uint32(r.Key), Sealed: r.Value})
				return nil
			}
			if err := putBolt(tx, r); err != nil {
				return fmt.Errorf("%s: %w", describe(r.Kind, r.Key), err)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	return kms.WriteShredSlotFile(shredSlotsPath(e.dir), slots)
}

// putBolt stores one record where its store keeps it, and the index entries derived from it.
func putBolt(tx *bolt.Tx, r Record) error {
	for _, f := range flatBuckets {
		if f.kind != r.Kind {
			continue
		}
		k := r.Key
		if f.parts > 1 {
			parts, err := untuple(r.Key, f.parts)
			if err != nil {
				return err
			}
			k = bytes.Join(parts, []byte{0})
			if r.Kind == KindIAMAttached { // by policy: account 0 policy 0 kind 0 entity
				by := bytes.Join([][]byte{parts[1], parts[3], parts[0], parts[2]}, []byte{0})
				if err := tx.Bucket(bIAMAttachedBy).Put(by, nil); err != nil {
					return err
				}
			}
		}
		if err := tx.Bucket(f.name).Put(k, r.Value); err != nil {
			return err
		}
		return putBoltIndex(tx, r)
	}
	return putS3(tx, r)
}

// putBoltIndex adds the index entries of a KMS key or an IAM access key.
func putBoltIndex(tx *bolt.Tx, r Record) error {
	switch r.Kind {
	case KindKMSKey:
		k, err := kmsrec.DecodeKey(string(r.Key), r.Value)
		if err != nil {
			return err
		}
		return tx.Bucket(bKMSByAccount).Put(bytes.Join([][]byte{[]byte(k.Account), r.Key}, []byte{0}), nil)
	case KindIAMKey:
		var k iam.AccessKey
		if err := iamrec.Decode(r.Value, &k); err != nil {
			return err
		}
		return tx.Bucket(bIAMKeysOwner).Put([]byte(k.Account+"\x00"+k.UserName+"\x00"+k.ID), nil)
	}
	return nil
}

// putS3 stores a record of boltmeta's nested layout.
func putS3(tx *bolt.Tx, r Record) error {
	top := tx.Bucket(bS3Buckets)
	if r.Kind == KindBucket {
		bk, err := top.CreateBucketIfNotExists(r.Key)
		if err != nil {
			return err
		}
		for _, sub := range [][]byte{keyObjects, keyUploads} {
			if _, err := bk.CreateBucketIfNotExists(sub); err != nil {
				return err
			}
		}
		return bk.Put(keyBucketRec, r.Value)
	}
	n := map[Kind]int{KindBucketPolicy: 1, KindObject: 2, KindObjectData: 2, KindUpload: 3, KindPart: 4}[r.Kind]
	if n == 0 {
		return fmt.Errorf("no place for a record of kind %q", r.Kind)
	}
	parts := [][]byte{r.Key}
	if n > 1 {
		var err error
		if parts, err = untuple(r.Key, n); err != nil {
			return err
		}
	}
	bk := top.Bucket(parts[0])
	if bk == nil {
		return errors.New("its bucket has no record")
	}
	switch r.Kind {
	case KindBucketPolicy:
		return bk.Put(keyBucketPolicy, r.Value)
	case KindObject:
		return bk.Bucket(keyObjects).Put(parts[1], r.Value)
	case KindObjectData:
		d, err := bk.CreateBucketIfNotExists(keyInline)
		if err != nil {
			return err
		}
		return d.Put(parts[1], r.Value)
	}
	ub, err := bk.Bucket(keyUploads).CreateBucketIfNotExists(boltmeta.UploadKey(string(parts[1]), string(parts[2])))
	if err != nil {
		return err
	}
	if r.Kind == KindUpload {
		return ub.Put(keyUploadRec, r.Value)
	}
	if len(parts[3]) != 4 {
		return errors.New("malformed part number")
	}
	return ub.Put(append([]byte{'p'}, parts[3]...), r.Value)
}
