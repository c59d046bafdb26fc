package pgdb_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer/coffer/internal/pgdb"
	"github.com/coffer/coffer/internal/pgtest"
)

// counted are migrations that log each time they run, so a test can tell how often each was
// applied.
var counted = []pgdb.Migration{
	{Version: 1, Name: "log table", SQL: "CREATE TABLE applied (version integer NOT NULL); INSERT INTO applied VALUES (1)"},
	{Version: 2, Name: "a table", SQL: "CREATE TABLE t2 (k bytea PRIMARY KEY); INSERT INTO applied VALUES (2)"},
	{Version: 3, Name: "an index", SQL: "CREATE INDEX t2_k ON t2 (k); INSERT INTO applied VALUES (3)"},
}

// appliedLog returns the versions in the log table, in the order they ran.
func appliedLog(t *testing.T, pool *pgxpool.Pool) []int {
	t.Helper()
	rows, err := pool.Query(ctx, "SELECT version FROM applied ORDER BY ctid")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// recorded returns the versions the migrations table holds for component.
func recorded(t *testing.T, pool *pgxpool.Pool, component string) []int {
	t.Helper()
	rows, err := pool.Query(ctx, "SELECT version FROM coffer_schema_migrations WHERE component = $1 ORDER BY version", component)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for rows.Next() {
		var v int
		rows.Scan(&v)
		out = append(out, v)
	}
	return out
}

// TestMigrateConcurrentNodes: nodes that start together, each with its own pool, apply each
// migration exactly once between them, and all of them succeed.
func TestMigrateConcurrentNodes(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const nodes = 8
	pools := make([]*pgxpool.Pool, nodes)
	for i := range pools {
		pools[i] = pgtest.OpenPool(t, url)
	}
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, pool := range pools {
		wg.Go(func() {
			<-start
			errs[i] = pgdb.Migrate(ctx, pool, "test", counted)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	if got := appliedLog(t, pools[0]); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("migrations ran %v, want [1 2 3] once each", got)
	}
	if got := recorded(t, pools[0], "test"); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("recorded versions %v, want [1 2 3]", got)
	}
}

// TestMigrateVersions: a restart applies only what is new, components are independent, and
// a database ahead of the binary or a badly numbered list is refused without changes.
func TestMigrateVersions(t *testing.T) {
	pool := pgtest.OpenPool(t, pgtest.NewDatabase(t))
	steps := []struct {
		name      string
		component string
		migs      []pgdb.Migration
		wantErr   error // nil: success
		wantLog   []int
	}{
		{"first start", "test", counted[:2], nil, []int{1, 2}},
		{"restart", "test", counted[:2], nil, []int{1, 2}},
		{"upgrade", "test", counted, nil, []int{1, 2, 3}},
		{"older binary", "test", counted[:1], pgdb.ErrSchemaTooNew, []int{1, 2, 3}},
		{"gap", "test", []pgdb.Migration{counted[0], counted[2]}, errors.New("any"), []int{1, 2, 3}},
		{"other component", "other", []pgdb.Migration{{Version: 1, Name: "o", SQL: "INSERT INTO applied VALUES (101)"}}, nil, []int{1, 2, 3, 101}},
		{"failing migration changes nothing", "test", append(slices.Clone(counted),
			pgdb.Migration{Version: 4, Name: "bad", SQL: "INSERT INTO applied VALUES (4); SELECT 1/0"}), errors.New("any"), []int{1, 2, 3, 101}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := pgdb.Migrate(ctx, pool, st.component, st.migs)
			switch {
			case st.wantErr == nil && err != nil:
				t.Fatalf("Migrate: %v", err)
			case st.wantErr != nil && err == nil:
				t.Fatal("Migrate succeeded, want an error")
			case st.wantErr == pgdb.ErrSchemaTooNew && !errors.Is(err, pgdb.ErrSchemaTooNew):
				t.Fatalf("Migrate = %v, want ErrSchemaTooNew", err)
			}
			if got := appliedLog(t, pool); !slices.Equal(got, st.wantLog) {
				t.Fatalf("log %v, want %v", got, st.wantLog)
			}
		})
	}
	if got := fmt.Sprint(recorded(t, pool, "test"), recorded(t, pool, "other")); got != "[1 2 3] [1]" {
		t.Fatalf("recorded %s, want [1 2 3] [1]", got)
	}
}
