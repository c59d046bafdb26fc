package pgiam

import "github.com/coffer/coffer/internal/pgdb"

// component names this store's migrations in the shared migrations table.
const component = "iam"

// migrations is the store's schema, in order. Released migrations never change.
//
// Keys are bytea, compared bytewise whatever the database's collation, as boltiam's keys are.
// Names of users, roles and managed policies are keyed lower-cased (name_key, lower-cased in
// Go as boltiam does it, not by the database's lower()), so they are unique per account
// ignoring case and list in boltiam's order; records keep the names as given. An access key's
// owner is its account and the lower-cased name of its user ("" for the account's root).
// Records are package iamrec's versioned encodings, as boltiam stores them. Every invariant
// (a user with keys or policies is not deleted, the key quota, attachments name live
// entities) is checked by the SERIALIZABLE transaction that could break it; the foreign keys
// are a second line.
var migrations = []pgdb.Migration{
	{Version: 1, Name: "accounts, users, roles, access keys, policies, sessions", SQL: `
CREATE TABLE iam_accounts (
	id  bytea PRIMARY KEY,
	rec bytea NOT NULL
);
CREATE TABLE iam_users (
	account  bytea NOT NULL REFERENCES iam_accounts (id),
	name_key bytea NOT NULL,
	rec      bytea NOT NULL,
	PRIMARY KEY (account, name_key)
);
CREATE TABLE iam_roles (
	account  bytea NOT NULL REFERENCES iam_accounts (id),
	name_key bytea NOT NULL,
	rec      bytea NOT NULL,
	PRIMARY KEY (account, name_key)
);
CREATE TABLE iam_access_keys (
	id       bytea PRIMARY KEY,
	account  bytea NOT NULL REFERENCES iam_accounts (id),
	user_key bytea NOT NULL,
	rec      bytea NOT NULL
);
CREATE INDEX iam_access_keys_owner ON iam_access_keys (account, user_key, id);
CREATE TABLE iam_inline_policies (
	kind       bytea NOT NULL,
	account    bytea NOT NULL,
	entity_key bytea NOT NULL,
	name       bytea NOT NULL,
	rec        bytea NOT NULL,
	PRIMARY KEY (kind, account, entity_key, name)
);
CREATE TABLE iam_policies (
	account  bytea NOT NULL REFERENCES iam_accounts (id),
	name_key bytea NOT NULL,
	rec      bytea NOT NULL,
	PRIMARY KEY (account, name_key)
);
CREATE TABLE iam_attachments (
	kind       bytea NOT NULL,
	account    bytea NOT NULL,
	entity_key bytea NOT NULL,
	policy_key bytea NOT NULL,
	PRIMARY KEY (kind, account, entity_key, policy_key),
	FOREIGN KEY (account, policy_key) REFERENCES iam_policies (account, name_key)
);
CREATE INDEX iam_attachments_policy ON iam_attachments (account, policy_key);
CREATE TABLE iam_sessions (
	access_key_id bytea PRIMARY KEY,
	expires_ns    bigint NOT NULL,
	rec           bytea NOT NULL
);
CREATE INDEX iam_sessions_expires ON iam_sessions (expires_ns);
`},
	{Version: 2, Name: "the default account every node shares", SQL: `
CREATE TABLE iam_default_account (
	one          boolean PRIMARY KEY DEFAULT true CHECK (one),
	id           text NOT NULL,
	display_name text NOT NULL
);
`},
}
