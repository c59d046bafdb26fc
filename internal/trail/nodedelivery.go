package trail

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// A trail's delivery state is Trail.Delivery on one node and Trail.Deliveries[node] on nodes
// sharing the store (Config.Node). The functions here are the one place that tells the two
// apart: delivery reads this node's state, setDelivery writes it, window is the span of
// record times it delivers, and owed brings a node's entry up to the trail's logging session.

// delivery is this node's delivery state of t.
func (s *Service) delivery(t *Trail) Delivery {
	if s.cfg.Node == "" {
		return t.Delivery
	}
	return t.Deliveries[s.cfg.Node].Delivery
}

// stored is this node's delivery state in st, the trail as now stored, and whether it is
// still the state of the session t's is of (a node's entry belongs to one logging session).
func (s *Service) stored(st, t *Trail) (Delivery, bool) {
	if s.cfg.Node == "" {
		return st.Delivery, true
	}
	e, ok := st.Deliveries[s.cfg.Node]
	return e.Delivery, ok && e.From.Equal(t.Deliveries[s.cfg.Node].From)
}

// setDelivery stores d as this node's delivery state of t, keeping its session.
func (s *Service) setDelivery(t *Trail, d Delivery) {
	if s.cfg.Node == "" {
		t.Delivery = d
		return
	}
	e := t.Deliveries[s.cfg.Node]
	e.Delivery = d
	t.Deliveries[s.cfg.Node] = e
}

// window is the span of record times this node delivers for t: from its session's start, and
// up to until when the session is closing.
func (s *Service) window(t *Trail) (from, until time.Time) {
	if s.cfg.Node == "" {
		return t.Status.StartLoggingTime, t.Status.StopLoggingTime
	}
	e := t.Deliveries[s.cfg.Node]
	return e.From, e.Until
}

// deliverOwed delivers what this node owes t now (see deliverTrail). On a node sharing the
// store it first brings the node's entry up to t's logging session (see nextSession): a node
// whose chain of an earlier session still owes its final digest delivers that first, then
// starts the chain of the session t is in. The caller holds s.deliver.
func (s *Service) deliverOwed(ctx context.Context, t *Trail, forceDigest bool) error {
	if s.cfg.Node == "" {
		if !t.Status.IsLogging && !t.Delivery.Closing {
			return nil
		}
		return s.deliverTrail(ctx, t, forceDigest)
	}
	// At most two chains: the final digest of the earlier session, then the current one.
	for range 2 {
		if err := s.joinSession(ctx, t); err != nil {
			return err
		}
		e, ok := t.Deliveries[s.cfg.Node]
		if !ok || !t.Status.IsLogging && !e.Closing {
			return nil
		}
		earlier := !e.From.Equal(t.Status.StartLoggingTime)
		if err := s.deliverTrail(ctx, t, forceDigest); err != nil {
			return err
		}
		if !earlier {
			return nil
		}
	}
	return nil
}

// joinSession stores the node's next entry of t (nextSession) when it differs from the one
// stored, conditionally on the stored entry and the trail's logging status being what t
// holds (a StartLogging or StopLogging through another node since is met at the next round).
func (s *Service) joinSession(ctx context.Context, t *Trail) error {
	cur, had := t.Deliveries[s.cfg.Node]
	next, changed, err := s.nextSession(t, cur, had)
	if err != nil || !changed {
		return err
	}
	updated, err := s.cfg.Store.Update(ctx, t.Account, t.Name, func(st *Trail) error {
		e, ok := st.Deliveries[s.cfg.Node]
		if ok != had || !e.From.Equal(cur.From) || !e.Until.Equal(cur.Until) || e.Closing != cur.Closing ||
			st.Status.IsLogging != t.Status.IsLogging || !st.Status.StartLoggingTime.Equal(t.Status.StartLoggingTime) ||
			!st.Status.StopLoggingTime.Equal(t.Status.StopLoggingTime) {
			return errRaced
		}
		if st.Deliveries == nil {
			st.Deliveries = map[string]NodeDelivery{}
		}
		st.Deliveries[s.cfg.Node] = next
		return nil
	})
	if err != nil {
		return fmt.Errorf("trail %s: starting node %s's delivery: %w", t.ARN(), s.cfg.Node, err)
	}
	*t = updated
	return nil
}

// nextSession is the node's entry of t after cur (had: there is one), and whether it changed:
//
//   - An entry of an earlier session that has not seen its session end ends it, at the
//     trail's StopLoggingTime when that falls in the session (else at the new session's
//     start), and owes its final digest (Closing).
//   - An entry closing an earlier session stays until its final digest is written.
//   - Otherwise an entry of an earlier session (or none) is replaced by one of t's session:
//     its cursor after the last local log file older than the session, its chain new.
//   - An entry of a session that has stopped (t not logging) ends it at StopLoggingTime and
//     owes its final digest; if none of the node's local log files reaches into the session,
//     it owes nothing.
func (s *Service) nextSession(t *Trail, cur NodeDelivery, had bool) (NodeDelivery, bool, error) {
	start := t.Status.StartLoggingTime
	if start.IsZero() || had && cur.From.Equal(start) && (t.Status.IsLogging || !cur.Until.IsZero()) {
		return cur, false, nil
	}
	if had && !cur.From.Equal(start) {
		if cur.Closing {
			return cur, false, nil
		}
		if cur.Until.IsZero() {
			end := t.Status.StopLoggingTime
			if !end.After(cur.From) || end.After(start) {
				end = start
			}
			cur.Until, cur.Closing = end, true
			return cur, true, nil
		}
	}
	next := cur
	if !had || !cur.From.Equal(start) {
		cursor, reaches, err := s.cursorBefore(start, t.Status.StopLoggingTime, t.Status.IsLogging)
		if err != nil {
			return cur, false, err
		}
		next = NodeDelivery{Delivery: Delivery{Cursor: cursor, PeriodStart: start.Truncate(time.Second), LastDigestEnd: cur.LastDigestEnd}, From: start}
		if !t.Status.IsLogging && !reaches {
			next.Until = t.Status.StopLoggingTime
			return next, true, nil
		}
	}
	if !t.Status.IsLogging {
		next.Until, next.Closing = t.Status.StopLoggingTime, true
	}
	return next, true, nil
}

// cursorBefore is the name of the last of the node's finished local log files whose records
// are all older than from ("" when none): a session starting at from delivers the files after
// it. reaches says whether the node may hold records of the session (from to until, or on
// when logging): a finished file after the cursor does, or the open one might, unless a
// finished file already holds only later records (files are written in time order).
func (s *Service) cursorBefore(from, until time.Time, logging bool) (cursor string, reaches bool, err error) {
	if s.cfg.Logs == nil {
		return "", false, errors.New("no audit log files")
	}
	files, err := s.cfg.Logs.LogFiles("")
	if err != nil {
		return "", false, err
	}
	from = from.Truncate(time.Second)
	i := 0
	for ; i < len(files) && files[i].Newest.Before(from); i++ {
		cursor = files[i].Name
	}
	reaches = logging || i == len(files) || !files[i].Oldest.After(until)
	return cursor, reaches, nil
}
