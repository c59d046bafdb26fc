// Package cluster is how Coffer nodes that share their stores tell each other about changes
// and agree which of them runs a periodic job. It names no backend: Local is the one-process
// Coordinator of the embedded default, pgcluster the one of nodes sharing a PostgreSQL
// database.
//
// # Bounds
//
// A notification is an optimisation, never what makes a node correct: it may be lost (a
// dropped connection, a database without LISTEN/NOTIFY such as CockroachDB), so every cache
// that a notification empties also re-reads its entries after a fixed time of its own
// (StaleBound for the services' caches). A change made on one node is therefore seen on every
// other node within the notification's delay (milliseconds while connected) and at the
// latest within StaleBound.
//
// What each service caches, and what bounds it when the stores are shared:
//
//   - KMS keys (state, versions, policy), each key's grants, each account's aliases:
//     kms.TopicKey, TopicGrants, TopicAliases; re-read after kms.Config.CacheTTL, which the
//     server sets to StaleBound. S3 checks the KMS key's state through this cache before
//     every use of a cached bucket key (object.Keys.CheckKey), so a key disabled on one node
//     fails SSE-KMS reads and writes on all within the same bound, although bucket keys
//     themselves are kept for minutes.
//   - IAM credentials with their principals' policies, and accounts: iam.TopicIdentities;
//     re-read after iam.DefaultCacheTTL (5 s, StaleBound's value).
//   - The trails' data event selectors: trail.TopicTrails; re-read after
//     trail.Config.SelectorTTL, StaleBound when shared.
//   - Bucket policies, ownership, encryption and public access settings are not cached: the
//     object service reads them with the bucket on every request (compiled policies are
//     cached by their text only), so they apply on every node at once.
package cluster

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Coordinator carries change notifications between the nodes sharing a store, and leases
// that let one of them run a job. It is safe for concurrent use.
type Coordinator interface {
	// Publish tells every node, this one included, that what key names under topic has
	// changed. Call it after the change has committed. Topics and keys are short names
	// (MaxMessage bytes together) without newlines.
	Publish(ctx context.Context, topic, key string) error
	// Subscribe calls fn for each change published under topic, one call at a time per
	// subscription, until cancel is called. fn("") means that anything under topic may have
	// changed: a node that lost its connection (and so perhaps notifications) says it each
	// time it connects, the first time too. fn must be quick and must not call Publish.
	Subscribe(topic string, fn func(key string)) (cancel func())
	// TryLease takes or renews the lease name for ttl and reports whether this node holds
	// it. A node that holds a lease renews it by calling again before ttl has passed; once
	// ttl has passed without renewal, another node may take it. Expiry is judged by one
	// clock (the database's), but a holder that renews late may still run briefly beside the
	// next holder: what a lease guards must also be safe to run twice.
	TryLease(ctx context.Context, name string, ttl time.Duration) (held bool, err error)
	// Node names this node in leases and logs: its host name and a random part chosen at
	// start, so that a restarted process is a new node.
	Node() string
}

// StaleBound is the longest a node serves a cached key, grant, alias or credential without
// reading the store again, when the stores are shared with other nodes: the bound within
// which a change made on one node is seen on all, whether or not notifications arrive. Five
// seconds keeps the store reads of each hot entry to one per node per five seconds, and is
// within the "few seconds" AWS states for KMS key state and IAM changes to take effect.
const StaleBound = 5 * time.Second

// MaxMessage bounds a topic and key together: PostgreSQL's NOTIFY payload limit (8000 bytes)
// with room to spare. Keys are ids and account numbers, far shorter.
const MaxMessage = 4000

// ErrBadMessage means a topic or key that cannot be published: empty topic, a newline, or too
// long.
var ErrBadMessage = errors.New("cluster: topic or key not publishable")

// CheckMessage returns ErrBadMessage unless topic and key can be published.
func CheckMessage(topic, key string) error {
	if topic == "" || strings.ContainsAny(topic, "\n\x00") || strings.ContainsAny(key, "\n\x00") || len(topic)+len(key) > MaxMessage {
		return ErrBadMessage
	}
	return nil
}
