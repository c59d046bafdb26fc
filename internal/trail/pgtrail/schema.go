package pgtrail

import "github.com/coffer/coffer/internal/pgdb"

// component names this store's migrations in the shared migrations table.
const component = "trail"

// migrations is the store's schema, in order. Released migrations never change.
//
// Accounts and trail names are bytea, compared bytewise whatever the database's collation, so
// List is in bolttrail's order. Records are package trailrec's versioned encodings, as
// bolttrail stores them.
var migrations = []pgdb.Migration{
	{Version: 1, Name: "trails", SQL: `
CREATE TABLE trail_trails (
	account bytea NOT NULL,
	name    bytea NOT NULL,
	rec     bytea NOT NULL,
	PRIMARY KEY (account, name)
);
`},
}
