// Package pgcluster is the cluster.Coordinator of nodes that share a PostgreSQL database:
// notifications through LISTEN/NOTIFY on one channel, leases in a table.
//
// Each node listens on a connection of its own, taken from its pool for as long as it runs.
// When that connection is lost, notifications sent meanwhile are lost with it, so on every
// (re)connection the subscribers hear fn(""): anything may have changed. A database without
// LISTEN/NOTIFY (CockroachDB) never connects the listener; the caches' own re-reads
// (cluster.StaleBound) are then the only bound.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer/coffer/internal/cluster"
	"github.com/coffer/coffer/internal/pgdb"
)

// channel is the one NOTIFY channel: a payload is "topic\nkey".
const channel = "coffer_changes"

// Backoff between attempts to (re)connect the listener.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// pingEvery is how long the listener waits for a notification before it checks that its
// connection still answers: a connection cut without a reset (a dead peer, a partition)
// would otherwise wait for ever.
const pingEvery = 30 * time.Second

// closeTimeout bounds the goodbye to a lost listening connection.
const closeTimeout = time.Second

// featureNotSupported is the SQLSTATE of a database without LISTEN (CockroachDB).
const featureNotSupported = "0A000"

// errNoListen means that the database does not implement LISTEN: notifications will never come.
var errNoListen = errors.New("pgcluster: LISTEN is not supported")

// errClosed is the error of calls after Close.
var errClosed = errors.New("pgcluster: coordinator closed")

var migrations = []pgdb.Migration{
	{Version: 1, Name: "leases", SQL: `CREATE TABLE coffer_leases (
		name       text COLLATE "C" PRIMARY KEY,
		holder     text NOT NULL,
		expires_at timestamptz NOT NULL
	)`},
}

// Coordinator is a cluster.Coordinator on a PostgreSQL database.
type Coordinator struct {
	h    *pgdb.Handle
	node string
	log  *slog.Logger
	subs cluster.Subscribers
	stop context.CancelFunc
	done chan struct{} // closed when the listener has stopped
	// connected is whether the listener is listening.
	connected atomic.Bool
}

var _ cluster.Coordinator = (*Coordinator)(nil)

// New migrates the leases table and starts listening on a connection of pool (which stays
// the caller's, and must allow one connection more than the stores use). log gets the
// listener's connection failures; nil discards them.
func New(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (*Coordinator, error) {
	h, err := pgdb.NewHandle(ctx, pool, "cluster", migrations, errClosed)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c := &Coordinator{h: h, node: cluster.NewNodeID(), stop: stop, done: make(chan struct{})}
	c.log = log.With("node", c.node)
	go c.run(lctx)
	return c, nil
}

// Close stops listening and gives up this node's leases (best effort), so that another
// node may take them at once. It does not close the pool.
func (c *Coordinator) Close() error {
	c.stop()
	<-c.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.h.Pool.Exec(ctx, "DELETE FROM coffer_leases WHERE holder = $1", c.node)
	c.h.Close()
	if err != nil {
		return fmt.Errorf("pgcluster: giving up leases: %w", err)
	}
	return nil
}

// Node implements cluster.Coordinator.
func (c *Coordinator) Node() string { return c.node }

// Publish sends a notification; PostgreSQL delivers it to every listening node, this one
// included, once the statement commits (at once: it runs outside a transaction).
func (c *Coordinator) Publish(ctx context.Context, topic, key string) error {
	if err := cluster.CheckMessage(topic, key); err != nil {
		return err
	}
	if err := c.h.Check(ctx); err != nil {
		return err
	}
	if _, err := c.h.Pool.Exec(ctx, "SELECT pg_notify($1, $2)", channel, topic+"\n"+key); err != nil {
		return fmt.Errorf("pgcluster: notify: %w", err)
	}
	return nil
}

// Subscribe implements cluster.Coordinator. A subscription made while the node is connected
// also hears "" once, soon after: a sign that it will hear what is published from then on.
func (c *Coordinator) Subscribe(topic string, fn func(key string)) (cancel func()) {
	cancel = c.subs.Add(topic, fn)
	if c.connected.Load() {
		go c.subs.Call(fn, "")
	}
	return cancel
}

// TryLease implements cluster.Coordinator. The lease row is taken when it has expired by the
// database's clock or is already this node's, in one statement: two nodes racing for it
// conflict on the primary key and only one update's condition holds.
func (c *Coordinator) TryLease(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	if err := c.h.Check(ctx); err != nil {
		return false, err
	}
	var holder string
	err := c.h.Pool.QueryRow(ctx, `INSERT INTO coffer_leases (name, holder, expires_at)
		VALUES ($1, $2, now() + $3::bigint * interval '1 millisecond')
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE coffer_leases.expires_at < now() OR coffer_leases.holder = excluded.holder
		RETURNING holder`, name, c.node, ttl.Milliseconds()).Scan(&holder)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("pgcluster: lease %s: %w", name, err)
	}
	return holder == c.node, nil
}

// run keeps a listening connection until ctx ends, reconnecting with backoff.
func (c *Coordinator) run(ctx context.Context) {
	defer close(c.done)
	backoff := minBackoff
	for {
		connected, err := c.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errNoListen) {
			c.log.Info("pgcluster: the database has no LISTEN/NOTIFY; caches rely on re-reading alone", "err", err)
			return
		}
		if connected {
			backoff = minBackoff
		}
		c.log.Warn("pgcluster: change notifications interrupted; caches fall back on re-reading", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listen takes a connection out of the pool, listens on it and delivers what arrives until
// the connection fails or ctx ends. connected says whether LISTEN succeeded.
func (c *Coordinator) listen(ctx context.Context) (connected bool, err error) {
	pc, err := c.h.Pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	// A listening connection must not go back to the pool: it is the listener's until closed.
	conn := pc.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == featureNotSupported {
			return false, fmt.Errorf("%w: %w", errNoListen, err)
		}
		return false, err
	}
	c.connected.Store(true)
	defer c.connected.Store(false)
	// Whatever was published while no connection listened is lost: subscribers re-read.
	c.subs.DeliverAll()
	for {
		wctx, cancel := context.WithTimeout(ctx, pingEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return true, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			if err := conn.Ping(ctx); err != nil {
				return true, err
			}
			continue
		case err != nil:
			return true, err
		}
		topic, key, ok := strings.Cut(n.Payload, "\n")
		if !ok {
			c.log.Warn("pgcluster: ignoring a notification that is not Coffer's", "channel", n.Channel)
			continue
		}
		c.subs.Deliver(topic, key)
	}
}
