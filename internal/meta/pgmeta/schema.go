package pgmeta

import "github.com/coffer/coffer/internal/pgdb"

// component names this store's migrations in the shared migrations table.
const component = "meta"

// migrations is the store's schema, in order. Released migrations never change.
//
// Names, keys and upload ids are bytea: they compare bytewise, which is S3's listing order,
// whatever the database's collation, and any bytes a caller passes are storable. Records are
// package metarec's versioned encodings, as boltmeta stores them; a bucket's policy and an
// object's inline bytes are kept beside the record so that listings never read them.
// Uploads and parts go with their bucket (ON DELETE CASCADE), parts with their upload.
var migrations = []pgdb.Migration{
	{Version: 1, Name: "buckets, objects, uploads, parts, intents", SQL: `
CREATE TABLE s3_buckets (
	name   bytea PRIMARY KEY,
	rec    bytea NOT NULL,
	policy bytea
);
CREATE TABLE s3_objects (
	bucket bytea NOT NULL REFERENCES s3_buckets (name) ON DELETE CASCADE,
	key    bytea NOT NULL,
	rec    bytea NOT NULL,
	inline bytea,
	PRIMARY KEY (bucket, key)
);
CREATE TABLE s3_uploads (
	bucket    bytea NOT NULL REFERENCES s3_buckets (name) ON DELETE CASCADE,
	key       bytea NOT NULL,
	upload_id bytea NOT NULL,
	rec       bytea NOT NULL,
	PRIMARY KEY (bucket, key, upload_id)
);
CREATE TABLE s3_parts (
	bucket    bytea NOT NULL,
	key       bytea NOT NULL,
	upload_id bytea NOT NULL,
	number    bigint NOT NULL,
	rec       bytea NOT NULL,
	PRIMARY KEY (bucket, key, upload_id, number),
	FOREIGN KEY (bucket, key, upload_id) REFERENCES s3_uploads (bucket, key, upload_id) ON DELETE CASCADE
);
CREATE TABLE s3_intents (
	blob       bytea PRIMARY KEY,
	bucket     bytea NOT NULL,
	key        bytea NOT NULL,
	upload_id  bytea NOT NULL,
	created_ns bigint NOT NULL
);
CREATE INDEX s3_intents_created ON s3_intents (created_ns);
`},
	// A freed intent (meta.IntentFreed) names a blob whose deletion is deferred; every intent
	// stored before it existed is a write intent (kind 0). A binary from before refuses the
	// migrated database (pgdb.ErrSchemaTooNew) rather than take freed intents for write ones.
	{Version: 2, Name: "intent kinds", SQL: `
ALTER TABLE s3_intents ADD COLUMN kind smallint NOT NULL DEFAULT 0 CHECK (kind IN (0, 1));
`},
}
