package cluster

import "sync"

// Subscribers keeps the subscriptions of a Coordinator and delivers to them, for
// implementations of Coordinator.
type Subscribers struct {
	mu    sync.Mutex
	subs  map[string]map[*subscription]struct{} // by topic
	calls sync.Mutex                            // one delivery at a time: fn needs no lock of its own
}

type subscription struct{ fn func(key string) }

// Add subscribes fn to topic; cancel removes it.
func (s *Subscribers) Add(topic string, fn func(key string)) (cancel func()) {
	sub := &subscription{fn: fn}
	s.mu.Lock()
	if s.subs == nil {
		s.subs = make(map[string]map[*subscription]struct{})
	}
	if s.subs[topic] == nil {
		s.subs[topic] = make(map[*subscription]struct{})
	}
	s.subs[topic][sub] = struct{}{}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.subs[topic], sub)
		s.mu.Unlock()
	}
}

// Deliver calls the subscribers of topic with key.
func (s *Subscribers) Deliver(topic, key string) {
	for _, fn := range s.of(topic) {
		s.calls.Lock()
		fn(key)
		s.calls.Unlock()
	}
}

// Call calls fn with key as a delivery does: one call at a time.
func (s *Subscribers) Call(fn func(key string), key string) {
	s.calls.Lock()
	defer s.calls.Unlock()
	fn(key)
}

// DeliverAll calls every subscriber of every topic with "": anything may have changed.
func (s *Subscribers) DeliverAll() {
	s.mu.Lock()
	var fns []func(string)
	for _, subs := range s.subs {
		for sub := range subs {
			fns = append(fns, sub.fn)
		}
	}
	s.mu.Unlock()
	for _, fn := range fns {
		s.calls.Lock()
		fn("")
		s.calls.Unlock()
	}
}

func (s *Subscribers) of(topic string) []func(string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fns := make([]func(string), 0, len(s.subs[topic]))
	for sub := range s.subs[topic] {
		fns = append(fns, sub.fn)
	}
	return fns
}
