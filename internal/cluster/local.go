package cluster

import (
	"context"
	"time"
)

// Local is the Coordinator of a node that shares its stores with no other (the embedded
// default): Publish calls this process's subscribers before it returns, and every lease is
// held.
type Local struct {
	subs Subscribers
	node string
}

var _ Coordinator = (*Local)(nil)

// NewLocal returns a Local coordinator.
func NewLocal() *Local { return &Local{node: NewNodeID()} }

// Publish calls the subscribers of topic with key, in the caller's goroutine.
func (l *Local) Publish(ctx context.Context, topic, key string) error {
	if err := CheckMessage(topic, key); err != nil {
		return err
	}
	l.subs.Deliver(topic, key)
	return ctx.Err()
}

// Subscribe implements Coordinator. A Local never loses a notification, so fn("") is not
// called.
func (l *Local) Subscribe(topic string, fn func(key string)) (cancel func()) {
	return l.subs.Add(topic, fn)
}

// TryLease holds every lease: there is no other node.
func (l *Local) TryLease(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	return ctx.Err() == nil, ctx.Err()
}

// Node implements Coordinator.
func (l *Local) Node() string { return l.node }
