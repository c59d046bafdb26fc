// Package pgtest runs a throwaway PostgreSQL server for tests: one cluster per test binary,
// started by Main from the package's TestMain, and one fresh database per test from NewDatabase,
// so tests are isolated and may run in parallel.
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		url := pgtest.NewDatabase(t) // a postgres:// URL of an empty database, dropped after t
//	}
//
// The cluster is Debian's PostgreSQL (initdb and postgres found on PATH or under
// /usr/lib/postgresql/*/bin), initialised in a temporary directory and listening on a free
// loopback port only, its superuser's random password in the URL. A test that needs it fails,
// never skips, when it cannot be started. When the tests run as root, as in CI, the server
// runs as the "postgres" system user: PostgreSQL refuses to run as root.
//
// Setting COFFER_PGTEST_URL to the URL of a superuser connection to an existing server (for
// instance a PostgreSQL-compatible distributed database) makes the tests use it instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer/coffer/internal/pgdb"
)

// EnvURL names the environment variable through which Main hands the cluster's admin URL to
// the tests of its binary, and through which a developer may name a server of their own.
const EnvURL = "COFFER_PGTEST_URL"

// Main starts a cluster (unless EnvURL names a server), runs the tests and stops it. Call it
// from TestMain. If the cluster cannot start, it reports why and exits 1: the tests fail.
func Main(m *testing.M) {
	if os.Getenv(EnvURL) != "" {
		os.Exit(m.Run())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	c, err := Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		os.Exit(1)
	}
	os.Setenv(EnvURL, c.URL("postgres"))
	code := m.Run()
	if err := c.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// NewDatabase creates an empty database for t on the server Main started and returns its URL.
// The database is dropped when t ends, after the cleanups t registers later (which close the
// pools using it). t fails if there is no server.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvURL)
	if admin == "" {
		t.Fatalf("pgtest: no PostgreSQL server: call pgtest.Main from TestMain (or set %s)", EnvURL)
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	name := "t_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := adminExec(ctx, admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE ends connections a failed test left open (PostgreSQL 13 and later).
		if err := adminExec(ctx, admin, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("pgtest: admin URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// OpenPool opens a pool of its own on the database at url (pgdb.Open), as one Coffer node
// would, and closes it when t ends.
func OpenPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgdb.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// OpenStore opens a store with open on a pool of its own on the database at url, as one
// Coffer node would (pgmeta.New, pgiam.New, pgtrail.New, pgkms.New), and closes the store,
// then the pool, when t ends.
func OpenStore[S interface{ Close() error }](t testing.TB, url string, open func(context.Context, *pgxpool.Pool) (S, error)) S {
	t.Helper()
	s, err := open(context.Background(), OpenPool(t, url))
	if err != nil {
		t.Fatalf("pgtest: open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// adminExec runs one statement on its own connection to the admin database.
func adminExec(ctx context.Context, adminURL, sql string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", pgdb.Redacted(adminURL), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}
