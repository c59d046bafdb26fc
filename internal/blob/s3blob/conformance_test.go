package s3blob_test

import (
	"testing"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/blobtest"
)

// TestConformance runs the blob conformance suite against a real S3 store: a Coffer server
// on its embedded backend. An S3 object is not readable once deleted.
func TestConformance(t *testing.T) {
	c := startCoffer(t)
	blobtest.RunOptions(t, func(t *testing.T) blob.Store { return c.fresh(t) }, blobtest.Options{NoReadAfterDelete: true})
}

// TestSharedNodes runs the shared-store cases with two Stores, as two nodes would open them,
// on one prefix of the Coffer server.
func TestSharedNodes(t *testing.T) {
	c := startCoffer(t)
	blobtest.RunShared(t, func(t *testing.T) (blob.Store, blob.Store) {
		cfg := c.config(c.freshPrefix())
		return storeCfg(t, cfg), storeCfg(t, cfg)
	})
}
