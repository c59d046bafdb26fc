package migrate

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/bloburl"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/iamrec"
	"github.com/coffer/coffer/internal/iam/pgiam"
	"github.com/coffer/coffer/internal/kms/kmsrec"
	"github.com/coffer/coffer/internal/kms/pgkms"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/metarec"
	"github.com/coffer/coffer/internal/meta/pgmeta"
	"github.com/coffer/coffer/internal/pgdb"
	"github.com/coffer/coffer/internal/trail/pgtrail"
)

// shared is PostgreSQL (the tables of pgmeta, pgkms with its shred slots, pgiam and pgtrail,
// read and written here table by table) and a shared blob store.
type shared struct {
	url   string
	pool  *pgxpool.Pool
	blobs blob.Store
}

// openShared connects to PostgreSQL and brings every store's schema up to date (each store's
// New runs its migrations), and opens the blob store.
func openShared(ctx context.Context, metaURL, blobURL string, log *slog.Logger) (*shared, error) {
	pool, err := pgdb.Open(ctx, metaURL)
	if err != nil {
		return nil, err
	}
	closers := []interface{ Close() error }{}
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for _, open := range []func(context.Context, *pgxpool.Pool) (interface{ Close() error }, error){
		func(ctx context.Context, p *pgxpool.Pool) (interface{ Close() error }, error) {
			return pgmeta.New(ctx, p)
		},
		func(ctx context.Context, p *pgxpool.Pool) (interface{ Close() error }, error) {
			return pgkms.New(ctx, p)
		},
		func(ctx context.Context, p *pgxpool.Pool) (interface{ Close() error }, error) {
			return pgiam.New(ctx, p)
		},
		func(ctx context.Context, p *pgxpool.Pool) (interface{ Close() error }, error) {
			return pgtrail.New(ctx, p)
		},
	} {
		s, err := open(ctx, pool)
		if err != nil {
			pool.Close()
			return nil, err
		}
		closers = append(closers, s)
	}
	blobs, err := bloburl.Open(ctx, blobURL, log)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &shared{url: metaURL, pool: pool, blobs: blobs}, nil
}

func (s *shared) name() string          { return pgdb.Redacted(s.url) }
func (s *shared) blobStore() blob.Store { return s.blobs }
func (s *shared) close() error          { s.pool.Close(); return nil }

// pgTable is how one kind of record is kept: the table, the columns of its identity (in
// tuple order; bytea, or bigint for a number), and the record's column ("" for a record that
// is its identity).
type pgTable struct {
	kind   Kind
	table  string
	ident  []string
	value  string
	filter string // which rows hold this kind, where a table holds another too
}

// pgTables lists the tables in copy order (a row after those its foreign keys name).
var pgTables = []pgTable{
	{kind: KindBucket, table: "s3_buckets", ident: []string{"name"}, value: "rec"},
	{kind: KindBucketPolicy, table: "s3_buckets", ident: []string{"name"}, value: "policy", filter: "policy IS NOT NULL"},
	{kind: KindObject, table: "s3_objects", ident: []string{"bucket", "key"}, value: "rec"},
	{kind: KindObjectData, table: "s3_objects", ident: []string{"bucket", "key"}, value: "inline", filter: "inline IS NOT NULL"},
	{kind: KindUpload, table: "s3_uploads", ident: []string{"bucket", "key", "upload_id"}, value: "rec"},
	{kind: KindPart, table: "s3_parts", ident: []string{"bucket", "key", "upload_id", "number"}, value: "rec"},
	{kind: KindIntent, table: "s3_intents", ident: []string{"blob"}},
	{kind: KindKMSKey, table: "kms_keys", ident: []string{"id"}, value: "rec"},
	{kind: KindKMSKeyCount, table: "kms_key_counts", ident: []string{"account"}, value: "n"},
	{kind: KindKMSAlias, table: "kms_aliases", ident: []string{"account", "name"}, value: "rec"},
	{kind: KindKMSGrant, table: "kms_grants", ident: []string{"key_id", "grant_id"}, value: "rec"},
	{kind: KindKMSKeyStore, table: "kms_keystores", ident: []string{"id"}, value: "rec"},
	{kind: KindKMSUsage, table: "kms_usage", ident: []string{"key_id"}, value: "rec"},
	{kind: KindKMSSetting, table: "kms_settings", ident: []string{"name"}, value: "value"},
	{kind: KindShredSlot, table: "kms_shred_slots", ident: []string{"slot"}, value: "sealed"},
	{kind: KindIAMAccount, table: "iam_accounts", ident: []string{"id"}, value: "rec"},
	{kind: KindIAMUser, table: "iam_users", ident: []string{"account", "name_key"}, value: "rec"},
	{kind: KindIAMRole, table: "iam_roles", ident: []string{"account", "name_key"}, value: "rec"},
	{kind: KindIAMPolicy, table: "iam_policies", ident: []string{"account", "name_key"}, value: "rec"},
	{kind: KindIAMKey, table: "iam_access_keys", ident: []string{"id"}, value: "rec"},
	{kind: KindIAMInline, table: "iam_inline_policies", ident: []string{"kind", "account", "entity_key", "name"}, value: "rec"},
	{kind: KindIAMAttached, table: "iam_attachments", ident: []string{"kind", "account", "entity_key", "policy_key"}},
	{kind: KindIAMSession, table: "iam_sessions", ident: []string{"access_key_id"}, value: "rec"},
	{kind: KindTrail, table: "trail_trails", ident: []string{"account", "name"}, value: "rec"},
}

// pgOtherTables are the tables of the database that hold no records to copy: pgdb's own, the
// nodes' leases (internal/cluster/pgcluster), and the default account the nodes settled
// (pgiam.SettleDefaultAccount), which credentials.json carries both ways: the first node to
// start on the migrated database settles the account its credentials.json names.
var pgOtherTables = []string{"coffer_schema_migrations", "coffer_leases", "iam_default_account"}

// checkTables fails on a table of the database this migration does not know, so that a store
// added later is not left behind unnoticed.
func (s *shared) checkTables(ctx context.Context, q pgdb.Queryer) error {
	rows, err := q.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name")
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, n := range names {
		if !slices.ContainsFunc(pgTables, func(t pgTable) bool { return t.table == n }) && !slices.Contains(pgOtherTables, n) {
			return fmt.Errorf("the database has a table %q that this migration does not know", n)
		}
	}
	return nil
}

// empty reports a table that holds a row, "" if none does.
func (s *shared) empty(ctx context.Context) (string, error) {
	if err := s.checkTables(ctx, s.pool); err != nil {
		return "", err
	}
	for _, t := range pgTables {
		ok, err := pgdb.Exists(ctx, s.pool, "SELECT 1 FROM "+t.table)
		if err != nil || ok {
			return t.table, err
		}
	}
	return "", nil
}

// records calls fn with every record of the database, in one snapshot.
func (s *shared) records(ctx context.Context, fn func(Record) error) error {
	return pgdb.InTx(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := s.checkTables(ctx, tx); err != nil {
			return err
		}
		for _, t := range pgTables {
			if err := readTable(ctx, tx, t, fn); err != nil {
				return fmt.Errorf("%s: %w", t.table, err)
			}
		}
		return nil
	})
}

// readTable reads the records of one kind from its table.
func readTable(ctx context.Context, tx pgx.Tx, t pgTable, fn func(Record) error) error {
	cols := slices.Clone(t.ident)
	switch {
	case t.kind == KindIntent:
		cols = append(cols, "bucket", "key", "upload_id", "created_ns", "kind")
	case t.value != "":
		cols = append(cols, t.value)
	}
	sql := "SELECT " + strings.Join(cols, ", ") + " FROM " + t.table
	if t.filter != "" {
		sql += " WHERE " + t.filter
	}
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		r, err := pgRecord(t, vals)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// pgRecord makes the Record of a row.
func pgRecord(t pgTable, vals []any) (Record, error) {
	r := Record{Kind: t.kind}
	ident := make([][]byte, len(t.ident))
	for i := range t.ident {
		switch v := vals[i].(type) {
		case []byte:
			ident[i] = v
		case string: // kms_settings.name
			ident[i] = []byte(v)
		case int64: // s3_parts.number, kms_shred_slots.slot
			if v < 0 || v > math.MaxUint32 {
				return Record{}, fmt.Errorf("%s %d out of range", t.ident[i], v)
			}
			ident[i] = uint32Key(uint32(v))
		default:
			return Record{}, fmt.Errorf("column %s: unexpected %T", t.ident[i], v)
		}
	}
	if len(ident) == 1 {
		r.Key = ident[0]
	} else {
		r.Key = tuple(ident...)
	}
	rest := vals[len(t.ident):]
	switch {
	case t.kind == KindIntent:
		b, ok1 := rest[0].([]byte)
		k, ok2 := rest[1].([]byte)
		u, ok3 := rest[2].([]byte)
		created, ok4 := rest[3].(int64)
		stored, ok5 := rest[4].(int16)
		if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
			return Record{}, fmt.Errorf("intent %q: unexpected column types", r.Key)
		}
		kind, err := pgmeta.IntentKind(stored)
		if err != nil {
			return Record{}, fmt.Errorf("intent %q: %w", r.Key, err)
		}
		// boltmeta's record of the intent, which Record carries.
		r.Value, err = metarec.EncodeIntent(meta.Intent{Bucket: string(b), Key: string(k), UploadID: string(u), Created: time.Unix(0, created), Kind: kind})
		if err != nil {
			return Record{}, err
		}
	case t.kind == KindKMSKeyCount:
		n, ok := rest[0].(int64)
		if !ok || n < 0 {
			return Record{}, fmt.Errorf("key count of %q: %v", r.Key, rest[0])
		}
		r.Value = binary.BigEndian.AppendUint64(nil, uint64(n))
	case t.value != "":
		v, ok := rest[0].([]byte)
		if !ok {
			return Record{}, fmt.Errorf("column %s: unexpected %T", t.value, rest[0])
		}
		r.Value = v
	}
	return r, nil
}

// write stores every record next yields, with the columns derived from them, in one
// transaction: an interrupted write leaves no record behind.
func (s *shared) write(ctx context.Context, next func(func(Record) error) error) error {
	return pgdb.InTx(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		var batch pgx.Batch
		flush := func() error {
			if batch.Len() == 0 {
				return nil
			}
			err := tx.SendBatch(ctx, &batch).Close()
			batch = pgx.Batch{}
			return err
		}
		err := next(func(r Record) error {
			sql, args, err := pgInsert(r)
			if err != nil {
				return fmt.Errorf("%s: %w", describe(r.Kind, r.Key), err)
			}
			batch.Queue(sql, args...)
			if batch.Len() >= 500 {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return flush()
	})
}

// pgInsert is the statement that stores r.
func pgInsert(r Record) (string, []any, error) {
	one := func(sql string, args ...any) (string, []any, error) { return sql, args, nil }
	parts := func(n int) ([][]byte, error) { return untuple(r.Key, n) }
	switch r.Kind {
	case KindBucket:
		return one("INSERT INTO s3_buckets (name, rec) VALUES ($1, $2)", r.Key, r.Value)
	case KindBucketPolicy:
		return one("UPDATE s3_buckets SET policy = $2 WHERE name = $1", r.Key, r.Value)
	case KindObject:
		p, err := parts(2)
		if err != nil {
			return "", nil, err
		}
		return one("INSERT INTO s3_objects (bucket, key, rec) VALUES ($1, $2, $3)", p[0], p[1], r.Value)
	case KindObjectData:
		p, err := parts(2)
		if err != nil {
			return "", nil, err
		}
		return one("UPDATE s3_objects SET inline = $3 WHERE bucket = $1 AND key = $2", p[0], p[1], r.Value)
	case KindUpload:
		p, err := parts(3)
		if err != nil {
			return "", nil, err
		}
		return one("INSERT INTO s3_uploads (bucket, key, upload_id, rec) VALUES ($1, $2, $3, $4)", p[0], p[1], p[2], r.Value)
	case KindPart:
		p, err := parts(4)
		if err != nil || len(p[3]) != 4 {
			return "", nil, errors.Join(err, errors.New("malformed part number"))
		}
		return one("INSERT INTO s3_parts (bucket, key, upload_id, number, rec) VALUES ($1, $2, $3, $4, $5)",
			p[0], p[1], p[2], int64(binary.BigEndian.Uint32(p[3])), r.Value)
	case KindIntent:
		in, err := metarec.DecodeIntent(string(r.Key), r.Value)
		if err != nil {
			return "", nil, fmt.Errorf("malformed intent record: %w", err)
		}
		kind, err := pgmeta.StoredIntentKind(in.Kind)
		if err != nil {
			return "", nil, err
		}
		return one("INSERT INTO s3_intents (blob, bucket, key, upload_id, created_ns, kind) VALUES ($1, $2, $3, $4, $5, $6)",
			r.Key, []byte(in.Bucket), []byte(in.Key), []byte(in.UploadID), in.Created.UnixNano(), kind)
	case KindKMSKey:
		k, err := kmsrec.DecodeKey(string(r.Key), r.Value)
		if err != nil {
			return "", nil, err
		}
		return one("INSERT INTO kms_keys (id, account, rec) VALUES ($1, $2, $3)", r.Key, []byte(k.Account), r.Value)
	case KindKMSKeyCount:
		if len(r.Value) != 8 || binary.BigEndian.Uint64(r.Value) > math.MaxInt64 {
			return "", nil, errors.New("malformed key count")
		}
		return one("INSERT INTO kms_key_counts (account, n) VALUES ($1, $2)", r.Key, int64(binary.BigEndian.Uint64(r.Value)))
	case KindKMSAlias:
		p, err := parts(2)
		if err != nil {
			return "", nil, err
		}
		a, err := kmsrec.DecodeAlias(string(p[0]), string(p[1]), r.Value)
		if err != nil {
			return "", nil, err
		}
		return one("INSERT INTO kms_aliases (account, name, key_id, rec) VALUES ($1, $2, $3, $4)", p[0], p[1], []byte(a.KeyID), r.Value)
	case KindKMSGrant:
		p, err := parts(2)
		if err != nil {
			return "", nil, err
		}
		return one("INSERT INTO kms_grants (key_id, grant_id, rec) VALUES ($1, $2, $3)", p[0], p[1], r.Value)
	case KindKMSKeyStore:
		return one("INSERT INTO kms_keystores (id, rec) VALUES ($1, $2)", r.Key, r.Value)
	case KindKMSUsage:
		// Usage is informational and unMACed: a damaged record is copied as it is (both
		// stores read it as no use), with the earliest time so that any later use replaces it.
		var usedNS int64 = math.MinInt64
		if u, ok := kmsrec.DecodeUsage(r.Value); ok {
			usedNS = pgdb.UnixNanos(u.Time)
		}
		return one("INSERT INTO kms_usage (key_id, used_ns, rec) VALUES ($1, $2, $3)", r.Key, usedNS, r.Value)
	case KindKMSSetting:
		return one("INSERT INTO kms_settings (name, value) VALUES ($1, $2)", string(r.Key), r.Value)
	case KindShredSlot:
		if len(r.Key) != 4 {
			return "", nil, errors.New("malformed slot number")
		}
		return one("INSERT INTO kms_shred_slots (slot, sealed) VALUES ($1, $2)", int64(binary.BigEndian.Uint32(r.Key)), r.Value)
	case KindIAMAccount:
		return one("INSERT INTO iam_accounts (id, rec) VALUES ($1, $2)", r.Key, r.Value)
	case KindIAMUser, KindIAMRole, KindIAMPolicy:
		p, err := parts(2)
		if err != nil {
			return "", nil, err
		}
		table := map[Kind]string{KindIAMUser: "iam_users", KindIAMRole: "iam_roles", KindIAMPolicy: "iam_policies"}[r.Kind]
		return one("INSERT INTO "+table+" (account, name_key, rec) VALUES ($1, $2, $3)", p[0], p[1], r.Value)
	case KindIAMKey:
		var k iam.AccessKey
		if err := iamrec.Decode(r.Value, &k); err != nil {
			return "", nil, err
		}
		return one("INSERT INTO iam_access_keys (id, account, user_key, rec) VALUES ($1, $2, $3, $4)",
			r.Key, []byte(k.Account), []byte(strings.ToLower(k.UserName)), r.Value)
	case KindIAMInline:
		p, err := parts(4)
		if err != nil {
			return "", nil, err
		}
		return one("INSERT INTO iam_inline_policies (kind, account, entity_key, name, rec) VALUES ($1, $2, $3, $4, $5)", p[0], p[1], p[2], p[3], r.Value)
	case KindIAMAttached:
		p, err := parts(4)
		if err != nil {
			return "", nil, err
		}
		return one("INSERT INTO iam_attachments (kind, account, entity_key, policy_key) VALUES ($1, $2, $3, $4)", p[0], p[1], p[2], p[3])
	case KindIAMSession:
		var ss iam.Session
		if err := iamrec.Decode(r.Value, &ss); err != nil {
			return "", nil, err
		}
		return one("INSERT INTO iam_sessions (access_key_id, expires_ns, rec) VALUES ($1, $2, $3)", r.Key, pgdb.UnixNanos(ss.Expires), r.Value)
	case KindTrail:
		p, err := parts(2)
		if err != nil {
			return "", nil, err
		}
		return one("INSERT INTO trail_trails (account, name, rec) VALUES ($1, $2, $3)", p[0], p[1], r.Value)
	}
	return "", nil, fmt.Errorf("no table for a record of kind %q", r.Kind)
}
