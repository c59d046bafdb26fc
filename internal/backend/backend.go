// Package backend opens the stores a Coffer server runs on: the embedded ones under a data
// directory (bbolt's meta.db and blob files under DIR/blobs), or shared ones that several
// nodes use together (PostgreSQL for metadata, keys, identities and trails; an S3-compatible
// store or a shared filesystem for object bytes). It is where the backends are named:
// cmd/coffer chooses one with --meta and --blob, and internal/server takes the Stores.
package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/bloburl"
	"github.com/coffer/coffer/internal/blob/fsblob"
	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/cluster"
	"github.com/coffer/coffer/internal/cluster/pgcluster"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/boltiam"
	"github.com/coffer/coffer/internal/iam/pgiam"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	"github.com/coffer/coffer/internal/kms/pgkms"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/boltmeta"
	"github.com/coffer/coffer/internal/meta/pgmeta"
	"github.com/coffer/coffer/internal/pgdb"
	"github.com/coffer/coffer/internal/trail"
	"github.com/coffer/coffer/internal/trail/bolttrail"
	"github.com/coffer/coffer/internal/trail/pgtrail"
)

// Stores are the stores of one server. Whoever opened them closes them (Close), once.
type Stores struct {
	Meta   meta.Store
	Blobs  blob.Store
	KMS    kms.Store // a kms.UsageStore too, for GetKeyLastUsage
	IAM    iam.Store
	Trails trail.Store
	// Shredder opens, under the KMS root key, the shred keys of key material
	// (internal/kms/SPEC.md §8) where every node sees them; nil for the embedded stores,
	// whose shred slots are a file the server keeps under its data directory.
	Shredder func(ctx context.Context, root kms.RootKey) (kms.Shredder, error)
	// Shared is true when several nodes may run on these stores at once: caches must then
	// learn of other nodes' changes, jobs must run once, and nothing may assume that a blob
	// it did not write is not being read.
	Shared bool
	// DefaultAccount settles the default account among the nodes sharing the stores: the
	// first proposal stored is the one every node gets (won tells whether it was this one).
	// Nil for the embedded stores, where DIR/credentials.json is the record of it.
	DefaultAccount func(ctx context.Context, proposed iam.Account) (acct iam.Account, won bool, err error)
	// Coordinator tells the nodes sharing the stores of each other's changes and hands out
	// leases (internal/cluster); nil for the embedded stores (the server uses cluster.Local).
	Coordinator cluster.Coordinator
	// Checks answer whether each store answers, by name, for readiness.
	Checks map[string]func(context.Context) error
	// Describe says where the stores are, without secrets, for the banner and logs.
	Describe string

	closers []func() error
}

// Close closes every store, then what they share (the database file or connection pool).
func (s *Stores) Close() error {
	var errs []error
	for _, c := range slices.Backward(s.closers) {
		errs = append(errs, c())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// TopBuckets names every top-level bucket of an embedded meta.db, for its format record.
func TopBuckets() []string {
	return slices.Concat(boltmeta.TopBuckets(), kmsbolt.TopBuckets(), boltiam.TopBuckets(), bolttrail.TopBuckets())
}

// OpenEmbedded opens the embedded stores of data directory dir: meta.db (one bbolt file for
// metadata, keys, identities and trails) and the blob files under dir/blobs. A running server
// holds meta.db's lock, so a second opener fails after a second.
func OpenEmbedded(dir string) (*Stores, error) {
	db, err := boltfile.Open(filepath.Join(dir, "meta.db"), TopBuckets())
	if err != nil {
		return nil, fmt.Errorf("metadata store: %w", err)
	}
	s, err := embedded(db, dir)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.closers = append(s.closers, db.Close)
	return s, nil
}

func embedded(db *bbolt.DB, dir string) (*Stores, error) {
	s := &Stores{Describe: "embedded: " + filepath.Join(dir, "meta.db") + " and " + filepath.Join(dir, "blobs")}
	var err error
	if s.Meta, err = boltmeta.New(db); err != nil {
		return nil, fmt.Errorf("metadata store: %w", err)
	}
	if s.Blobs, err = fsblob.New(filepath.Join(dir, "blobs")); err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	if s.KMS, err = kmsbolt.New(db); err != nil {
		return nil, fmt.Errorf("kms store: %w", err)
	}
	if s.IAM, err = boltiam.New(db); err != nil {
		return nil, fmt.Errorf("iam store: %w", err)
	}
	if s.Trails, err = bolttrail.New(db); err != nil {
		return nil, fmt.Errorf("trail store: %w", err)
	}
	blobDir := filepath.Join(dir, "blobs")
	s.Checks = map[string]func(context.Context) error{
		"meta": func(context.Context) error { return db.View(func(*bbolt.Tx) error { return nil }) },
		"blobs": func(context.Context) error {
			fi, err := os.Stat(blobDir)
			if err == nil && !fi.IsDir() {
				err = errors.New("not a directory")
			}
			return err
		},
	}
	return s, nil
}

// SharedConfig names the shared stores.
type SharedConfig struct {
	// Meta is the PostgreSQL database of metadata, keys, identities and trails: a postgres://
	// URL or a libpq key=value string (pgxpool's pool_max_conns sizes the pool).
	Meta string
	// Blob is the shared blob store: s3://bucket/prefix?endpoint=...&region=...&ca=...&path-style=true
	// or file:///mnt/shared (see bloburl).
	Blob   string
	Logger *slog.Logger
}

// DefaultPoolConns is the connection pool size of a node when the database URL gives no
// pool_max_conns: pgxpool's default (the number of CPUs, at least 4) leaves requests waiting
// for a connection on small machines while the database idles.
//
// The coordinator's LISTEN connection is taken out of the pool for good (pgxpool's Hijack frees
// its place), so a node holds up to DefaultPoolConns+1 connections.
const DefaultPoolConns = 32

// OpenShared opens the stores several nodes share, bringing the database's schema up to date
// (safe when nodes start together).
func OpenShared(ctx context.Context, c SharedConfig) (*Stores, error) {
	if c.Meta == "" || c.Blob == "" {
		return nil, errors.New("shared stores need both a database (--meta postgres://...) and a blob store (--blob s3://... or file://...)")
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pool, err := pgdb.Open(ctx, withPoolSize(c.Meta))
	if err != nil {
		return nil, err
	}
	s := &Stores{Shared: true, closers: []func() error{func() error { pool.Close(); return nil }}}
	if err := s.openShared(ctx, pool, c, log); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

func (s *Stores) openShared(ctx context.Context, pool *pgxpool.Pool, c SharedConfig, log *slog.Logger) error {
	m, err := pgmeta.New(ctx, pool)
	if err != nil {
		return err
	}
	s.Meta = m
	k, err := pgkms.New(ctx, pool)
	if err != nil {
		return err
	}
	s.KMS = k
	s.Shredder = func(ctx context.Context, root kms.RootKey) (kms.Shredder, error) {
		sh, err := pgkms.NewShredder(ctx, pool, root)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, sh.Close)
		return sh, nil
	}
	i, err := pgiam.New(ctx, pool)
	if err != nil {
		return err
	}
	s.IAM, s.DefaultAccount = i, i.SettleDefaultAccount
	t, err := pgtrail.New(ctx, pool)
	if err != nil {
		return err
	}
	s.Trails = t
	coord, err := pgcluster.New(ctx, pool, log)
	if err != nil {
		return err
	}
	s.Coordinator = coord
	s.closers = append(s.closers, coord.Close) // before the pool: it gives up this node's leases
	if s.Blobs, err = bloburl.Open(ctx, c.Blob, log); err != nil {
		return err
	}
	if cl, ok := s.Blobs.(interface{ Close() error }); ok {
		s.closers = append(s.closers, cl.Close)
	}
	s.Describe = "shared: " + pgdb.Redacted(c.Meta) + " and " + redactedBlob(c.Blob)
	s.Checks = map[string]func(context.Context) error{
		"meta":  func(ctx context.Context) error { return pool.Ping(ctx) },
		"blobs": func(ctx context.Context) error { return listOne(ctx, s.Blobs) },
	}
	return nil
}

// withPoolSize adds pool_max_conns=DefaultPoolConns to a database URL that sets none.
func withPoolSize(conn string) string {
	if strings.Contains(conn, "pool_max_conns") {
		return conn
	}
	switch {
	case strings.HasPrefix(conn, "postgres://"), strings.HasPrefix(conn, "postgresql://"):
		sep := "?"
		if strings.Contains(conn, "?") {
			sep = "&"
		}
		return conn + sep + fmt.Sprintf("pool_max_conns=%d", DefaultPoolConns)
	default:
		return strings.TrimSpace(conn) + fmt.Sprintf(" pool_max_conns=%d", DefaultPoolConns)
	}
}

// redactedBlob is a blob URL without its query (which names endpoints, never credentials,
// but is long) for the banner.
func redactedBlob(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "(blob store)"
	}
	rest, _, _ = strings.Cut(rest, "?")
	return scheme + "://" + rest
}

// errStop ends a listing after its first entry.
var errStop = errors.New("stop")

// listOne asks the blob store for one name: it answers, or the store is not ready.
func listOne(ctx context.Context, b blob.Store) error {
	err := b.List(ctx, "o/", func(string, int64) error { return errStop })
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}
