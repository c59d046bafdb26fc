package pgdb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/pgdb"
	"github.com/coffer/coffer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

func TestRedacted(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"password in userinfo", "postgres://coffer:s3cret@db:5432/coffer", "postgres://coffer:REDACTED@db:5432/coffer"},
		{"password parameter", "postgres://db/coffer?password=s3cret&sslmode=verify-full", "postgres://db/coffer?password=REDACTED&sslmode=verify-full"},
		{"client key's password", "postgres://db/coffer?sslkey=/k.pem&sslpassword=s3cret", "postgres://db/coffer?sslkey=%2Fk.pem&sslpassword=REDACTED"},
		{"several hosts", "postgres://coffer:s3cret@db1:5432,db2:5432/coffer", "postgres://coffer:REDACTED@db1:5432,db2:5432/coffer"},
		{"no password", "postgres://coffer@db/coffer", "postgres://coffer@db/coffer"},
		{"key-value string", "host=db password=s3cret", "(database)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pgdb.Redacted(tc.in); got != tc.want {
				t.Fatalf("Redacted(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct{ name, url string }{
		{"unparsable", "postgres://coffer:s3cret@db:notaport/x"},
		{"nothing listening", "postgres://coffer:s3cret@127.0.0.1:1/x?connect_timeout=5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pool, err := pgdb.Open(ctx, tc.url)
			if err == nil {
				pool.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}
