// Package pgdb is the PostgreSQL plumbing that Coffer's PostgreSQL-backed stores share: a
// connection pool (Open), versioned schema migrations applied at start (Migrate),
// transactions that are run again after a serialization failure (Serializable, InTx), and the
// Handle each store makes its calls through.
//
// # What it relies on
//
// The stores are written for PostgreSQL 13 or later and for PostgreSQL-compatible
// distributed SQL databases (CockroachDB, YugabyteDB), so they keep to features all of these
// have:
//
//   - Transactions at SERIALIZABLE isolation for every read-modify-write: a store reads the
//     current rows, judges them (a meta.Condition, an UpdateBucket function) and writes, and
//     the database guarantees the outcome of some serial order or fails the transaction with
//     SQLSTATE 40001, after which Serializable runs it again from the start. It is
//     CockroachDB's default level, YugabyteDB and PostgreSQL provide it, and it is the one
//     level without anomalies; no correctness argument rests on row locks or on READ
//     COMMITTED's re-reads. SELECT ... FOR UPDATE is used where a row is certainly about
//     to be rewritten, to make concurrent writers wait instead of failing and retrying; it is
//     an optimisation, not what makes the write correct.
//   - Because a transaction may run more than once, the functions run inside one must be free
//     of side effects, as meta.Condition documents.
//   - pg_advisory_xact_lock, transaction-scoped, only around schema migrations, so that nodes
//     starting together apply each migration once and the losers wait rather than fail. The
//     migrations table's primary key is the guard that holds where advisory locks are no-ops
//     (older CockroachDB releases define the function as a stub that locks nothing): a second
//     node's insert of an applied version conflicts, its transaction fails and is run again,
//     and then finds the version applied. Migrations run at READ COMMITTED so that a node that
//     waited for the lock sees the versions applied meanwhile; a database that runs READ
//     COMMITTED as SERIALIZABLE (CockroachDB unless enabled) falls back on the primary key.
//   - Reads that answer from one statement run outside a transaction block, at the session's
//     level (READ COMMITTED in PostgreSQL): each statement sees one committed state.
//   - Reads of several statements (an IAM list that first checks its user exists) run in one
//     READ ONLY transaction at REPEATABLE READ, a snapshot for all of them; CockroachDB runs it
//     as SERIALIZABLE unless told otherwise, which is as good for a read.
//   - DDL inside a transaction (each migration commits whole with its version row), which
//     PostgreSQL and YugabyteDB have fully and CockroachDB with limits that the migrations
//     here stay within (CREATE TABLE and CREATE INDEX on new tables).
//   - bytea columns compared bytewise for object keys, so listings are in S3's byte order
//     whatever the database's collation; text columns that must sort use COLLATE "C".
//   - LISTEN/NOTIFY for cache invalidation across nodes (internal/cluster/pgcluster): one
//     channel, payloads of a topic and an id, a dedicated listening connection per node.
//     Nothing depends on a notification arriving: CockroachDB lacks LISTEN/NOTIFY and a
//     connection can drop, so every cache also re-reads on a timer (cluster.StaleBound),
//     and a node that (re)connects its listener drops what it cached.
//   - Leases (pgcluster's coffer_leases table), so that one node runs the KMS scheduler:
//     taken in one INSERT ... ON CONFLICT DO UPDATE ... WHERE, judged by the database's
//     clock (now()), never the nodes'. The jobs a lease guards are safe to run twice.
//
// Not used: session-level advisory locks, sequences for ordering, SKIP LOCKED, triggers,
// stored procedures, or extensions.
package pgdb

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Open connects a pool to the database at connURL (a postgres:// URL or key=value string as
// libpq takes it, including pgxpool's pool_max_conns) and checks that the database answers.
func Open(ctx context.Context, connURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(connURL)
	if err != nil {
		// The parse error may quote the URL, password included: say only what is wrong.
		return nil, fmt.Errorf("pgdb: the database URL does not parse")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgdb: open %s: %w", Redacted(connURL), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgdb: connect to %s: %w", Redacted(connURL), err)
	}
	return pool, nil
}

// Redacted returns connURL fit for messages and logs: a URL with its password replaced, or
// a placeholder for anything else (a key=value string may hold a password anywhere).
func Redacted(connURL string) string {
	u, err := url.Parse(connURL)
	if err != nil || u.Scheme == "" {
		return "(database)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	q := u.Query()
	changed := false
	for _, name := range [...]string{"password", "sslpassword"} { // the server's, the client key's
		if q.Has(name) {
			q.Set(name, "REDACTED")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
