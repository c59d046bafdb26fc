// Package migrate moves everything a Coffer keeps between an embedded data directory
// (meta.db, the shred slot file, the blob directory) and PostgreSQL with a shared blob store,
// in either direction, and verifies that both sides hold the same.
//
// Records are copied as the stores keep them: both backends store the bytes of the shared
// record codecs (metarec, kmsrec, iamrec, trailrec), and KMS records carry their MAC under the
// root key above the store, so no record is decoded to be re-encoded and nothing needs the
// root key. This package therefore reads and writes the two layouts directly, bucket by bucket
// (bolt.go) and table by table (pg.go), rather than through the Store interfaces, which have
// no way to list everything (grants of every key, every session) or to store a record as it
// is. What a backend derives from records (indexes, columns copied out of a record) is
// rebuilt on the destination from the records. A top-level bucket or table this package does
// not know stops the migration, so that a store added later is never left behind unnoticed.
//
// The destination must hold no record. Records are written in one transaction (one bbolt
// transaction, one PostgreSQL transaction), after the blobs, so an interrupted run leaves at
// most blobs behind; blobs already at the destination are kept when they equal the source's
// (size and SHA-256), which resumes such a run, and refused otherwise. Blobs are ciphertext
// and copied byte for byte, streamed. After copying, Verify reads both sides back.
//
// The KMS root key (DIR/kms/root.key, or root.key.wrapped by an HSM) and credentials.json
// are not copied: they are files the operator carries to every node.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/coffer/coffer/internal/blob"
)

// ErrNotEmpty means the destination holds records, or blobs that are not the source's.
var ErrNotEmpty = errors.New("migrate: the destination is not empty")

// ErrDiffers means verification found the two sides holding different things.
var ErrDiffers = errors.New("migrate: the two sides differ")

// side is one end of a migration.
type side interface {
	name() string
	// records calls fn with every record, each after those it refers to.
	records(ctx context.Context, fn func(Record) error) error
	// write stores every record next yields, in one transaction.
	write(ctx context.Context, next func(func(Record) error) error) error
	blobStore() blob.Store
	close() error
}

// Report is what a migration or verification found.
type Report struct {
	// Records counts the source's records per kind (the first side's, for Verify).
	Records map[Kind]int
	// Blobs and BlobBytes count the source's blobs and their bytes.
	Blobs     int
	BlobBytes int64
	// Copied and Kept count the blobs copied now and those found already in place.
	Copied, Kept int
	// Differences lists what differs between the sides after the copy (at most maxListed,
	// then a count of the rest); empty when they hold the same.
	Differences []string
}

// maxListed bounds the differences a report lists one by one.
const maxListed = 100

// ToShared copies the embedded data directory dir (its server stopped) into the PostgreSQL
// database at metaURL and the blob store at blobURL (bloburl.Open), which must be empty, and
// verifies the copy.
func ToShared(ctx context.Context, dir, metaURL, blobURL string, log *slog.Logger) (Report, error) {
	src, err := openEmbeddedSource(dir)
	if err != nil {
		return Report{}, err
	}
	defer src.close()
	dst, err := openShared(ctx, metaURL, blobURL, log)
	if err != nil {
		return Report{}, err
	}
	defer dst.close()
	table, err := dst.empty(ctx)
	if err != nil {
		return Report{}, err
	}
	if table != "" {
		return Report{}, fmt.Errorf("%w: table %s of %s has rows; give an empty database (or drop this one and create it again: a failed migration commits no record), and keep the blob store: blobs already copied are checked and kept",
			ErrNotEmpty, table, dst.name())
	}
	return run(ctx, src, dst, log)
}

// ToEmbedded copies the PostgreSQL database at metaURL and the blob store at blobURL (no
// Coffer node running on them) into the data directory dir, which must hold no record (a
// meta.db left empty by an interrupted run is taken) and no shred slot file, and verifies
// the copy.
func ToEmbedded(ctx context.Context, metaURL, blobURL, dir string, log *slog.Logger) (Report, error) {
	src, err := openShared(ctx, metaURL, blobURL, log)
	if err != nil {
		return Report{}, err
	}
	defer src.close()
	dst, err := openEmbeddedTarget(dir)
	if err != nil {
		return Report{}, err
	}
	defer dst.close()
	return run(ctx, src, dst, log)
}

// Verify compares the embedded data directory dir with the PostgreSQL database at metaURL and
// the blob store at blobURL, record by record and blob by blob. It changes no record or blob
// (the PostgreSQL schema is brought up to date, as a node's start would).
func Verify(ctx context.Context, dir, metaURL, blobURL string, log *slog.Logger) (Report, error) {
	a, err := openEmbeddedSource(dir)
	if err != nil {
		return Report{}, err
	}
	defer a.close()
	b, err := openShared(ctx, metaURL, blobURL, log)
	if err != nil {
		return Report{}, err
	}
	defer b.close()
	return verify(ctx, a, b, log)
}

// run copies src's blobs, then its records, into dst, and verifies.
func run(ctx context.Context, src, dst side, log *slog.Logger) (Report, error) {
	log.Info("migrate: copying blobs", "from", src.name(), "to", dst.name())
	copied, kept, err := copyBlobs(ctx, src.blobStore(), dst.blobStore())
	if err != nil {
		return Report{}, err
	}
	log.Info("migrate: copying records", "blobs_copied", copied, "blobs_kept", kept)
	err = dst.write(ctx, func(put func(Record) error) error { return src.records(ctx, put) })
	if err != nil {
		return Report{}, fmt.Errorf("migrate: writing records to %s (none were stored): %w", dst.name(), err)
	}
	log.Info("migrate: verifying")
	rep, err := verify(ctx, src, dst, log)
	rep.Copied, rep.Kept = copied, kept
	return rep, err
}

// verify reads both sides whole and compares every record (by the SHA-256 of its bytes, so
// that memory holds a digest per record, not the records) and every blob (size and SHA-256,
// streamed).
func verify(ctx context.Context, a, b side, log *slog.Logger) (Report, error) {
	rep := Report{Records: map[Kind]int{}}
	var diffs differences
	seen := map[string][digestLen]byte{}
	err := a.records(ctx, func(r Record) error {
		rep.Records[r.Kind]++
		seen[recordID(r)] = digest(r.Value)
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("migrate: reading %s: %w", a.name(), err)
	}
	err = b.records(ctx, func(r Record) error {
		id := recordID(r)
		d, ok := seen[id]
		switch {
		case !ok:
			diffs.add(fmt.Sprintf("%s: only in %s", describe(r.Kind, r.Key), b.name()))
		case d != digest(r.Value):
			diffs.add(fmt.Sprintf("%s: differs", describe(r.Kind, r.Key)))
		}
		delete(seen, id)
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("migrate: reading %s: %w", b.name(), err)
	}
	for id := range seen {
		kind, key := splitRecordID(id)
		diffs.add(fmt.Sprintf("%s: only in %s", describe(kind, key), a.name()))
	}
	log.Info("migrate: records compared; comparing blobs")
	rep.Blobs, rep.BlobBytes, err = compareBlobs(ctx, a.blobStore(), b.blobStore(), a.name(), b.name(), &diffs)
	if err != nil {
		return rep, err
	}
	rep.Differences = diffs.list()
	if len(rep.Differences) > 0 {
		return rep, fmt.Errorf("%w (differences: %d)", ErrDiffers, diffs.n)
	}
	return rep, nil
}

// differences collects what verification found, listing the first maxListed.
type differences struct {
	listed []string
	n      int
}

func (d *differences) add(s string) {
	d.n++
	if len(d.listed) < maxListed {
		d.listed = append(d.listed, s)
	}
}

func (d *differences) list() []string {
	if d.n > len(d.listed) {
		return append(d.listed, fmt.Sprintf("… and %d more", d.n-len(d.listed)))
	}
	return d.listed
}

// recordID is a record's kind and identity as one map key.
func recordID(r Record) string { return string(r.Kind) + "\x00" + string(r.Key) }

func splitRecordID(id string) (Kind, []byte) {
	for i := 0; i < len(id); i++ {
		if id[i] == 0 {
			return Kind(id[:i]), []byte(id[i+1:])
		}
	}
	return Kind(id), nil
}
