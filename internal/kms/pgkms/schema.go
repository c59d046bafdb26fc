package pgkms

import "github.com/coffer/coffer/internal/pgdb"

// component names this store's migrations in the shared migrations table.
const component = "kms"

// migrations is the store's schema, in order. Released migrations never change.
//
// Ids, accounts and names are bytea, compared bytewise whatever the database's collation, so
// lists and scans are in kmsbolt's order. Records (rec) are package kmsrec's encodings, the
// bytes kmsbolt keeps, MACed above the store by package kms; the columns beside a record are
// copies of its identity (and an alias's target) written with it, for indexes. kms_key_counts
// is keycount.go's per-account count of customer managed keys; kms_settings holds what
// kmsbolt keeps in kms.root (the canary, the record format, the usage tracking start), in
// kmsrec's forms. Every invariant (an alias or grant names a live key, the quota) is checked
// by the SERIALIZABLE transaction that could break it; the foreign keys are a second line.
var migrations = []pgdb.Migration{
	{Version: 1, Name: "keys, aliases, grants, custom key stores, key counts, usage, settings", SQL: `
CREATE TABLE kms_keys (
	id      bytea PRIMARY KEY,
	account bytea NOT NULL,
	rec     bytea NOT NULL
);
CREATE INDEX kms_keys_account ON kms_keys (account, id);
CREATE TABLE kms_key_counts (
	account bytea PRIMARY KEY,
	n       bigint NOT NULL CHECK (n >= 0)
);
CREATE TABLE kms_aliases (
	account bytea NOT NULL,
	name    bytea NOT NULL,
	key_id  bytea NOT NULL REFERENCES kms_keys (id),
	rec     bytea NOT NULL,
	PRIMARY KEY (account, name)
);
CREATE INDEX kms_aliases_key ON kms_aliases (key_id);
CREATE TABLE kms_grants (
	key_id   bytea NOT NULL REFERENCES kms_keys (id),
	grant_id bytea NOT NULL,
	rec      bytea NOT NULL,
	PRIMARY KEY (key_id, grant_id)
);
CREATE TABLE kms_keystores (
	id  bytea PRIMARY KEY,
	rec bytea NOT NULL
);
CREATE TABLE kms_usage (
	key_id  bytea PRIMARY KEY REFERENCES kms_keys (id),
	used_ns bigint NOT NULL,
	rec     bytea NOT NULL
);
CREATE TABLE kms_settings (
	name  text COLLATE "C" PRIMARY KEY,
	value bytea NOT NULL
);
`},
	// kms_shred_slots is Shredder's: a slot in use and the root key's seal of its shred key
	// (internal/kms/SPEC.md §8.2, §8.4); a destroyed slot has no row.
	{Version: 2, Name: "shred slots", SQL: `
CREATE TABLE kms_shred_slots (
	slot   bigint PRIMARY KEY CHECK (slot BETWEEN 1 AND 4294967295),
	sealed bytea NOT NULL
);
`},
}
