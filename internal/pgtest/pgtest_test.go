package pgtest

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestNewDatabase: each test gets its own empty database, which goes when the test ends.
func TestNewDatabase(t *testing.T) {
	ctx := context.Background()
	names := make(chan string, 2)
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"one", "two"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				conn := connect(t, NewDatabase(t))
				var db string
				if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
					t.Fatal(err)
				}
				names <- db
				var tables int
				if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil || tables != 0 {
					t.Fatalf("fresh database has %d tables (err %v)", tables, err)
				}
				if _, err := conn.Exec(ctx, "CREATE TABLE mine (x int)"); err != nil {
					t.Fatalf("create a table: %v", err)
				}
			})
		}
	})
	close(names)
	admin := connect(t, os.Getenv(EnvURL))
	var seen []string
	for db := range names {
		seen = append(seen, db)
		var n int
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", db).Scan(&n); err != nil || n != 0 {
			t.Fatalf("database %s still there after its test (err %v)", db, err)
		}
	}
	if len(seen) != 2 || seen[0] == seen[1] {
		t.Fatalf("databases %q, want two different ones", seen)
	}
}

// TestStartStop: a cluster listens on loopback only, refuses whoever does not know its
// superuser's password (any local user could otherwise run programs as the server's user, with
// COPY ... TO PROGRAM), and Stop ends its server and removes its directory.
func TestStartStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, c.URL("postgres"))
	var listen string
	if err := conn.QueryRow(ctx, "SHOW listen_addresses").Scan(&listen); err != nil || listen != "127.0.0.1" {
		t.Fatalf("listen_addresses = %q (err %v), want 127.0.0.1", listen, err)
	}
	var superuser string
	if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&superuser); err != nil || superuser != "postgres" {
		t.Fatalf("current_user = %q (err %v)", superuser, err)
	}
	conn.Close(ctx)
	anyone, err := url.Parse(c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	anyone.User = url.User("postgres")
	if conn, err := pgx.Connect(ctx, anyone.String()); err == nil {
		conn.Close(ctx)
		t.Fatal("the cluster let in a connection without the password")
	}
	// A sweep by another test binary, after a collection, leaves a running cluster alone.
	runtime.GC()
	sweepStale(filepath.Dir(c.dir))
	if _, err := os.Stat(c.dataDir()); err != nil {
		t.Fatalf("a sweep removed a running cluster's directory: %v", err)
	}
	pid := c.server.Process.Pid
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("postgres process %d still there after Stop (kill 0: %v)", pid, err)
	}
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Fatalf("cluster directory %s still there after Stop (%v)", c.dir, err)
	}
	if _, err := pgx.Connect(ctx, c.URL("postgres")); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("connect after Stop: %v, want a refused connection", err)
	}
}
