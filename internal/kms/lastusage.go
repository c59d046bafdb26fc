package kms

import (
	"context"
	"strings"
	"sync"
	"time"
)

// KeyUsage is the last successful cryptographic use of a key, as GetKeyLastUsage reports it.
type KeyUsage struct {
	Operation string    // one of trackedOps
	Time      time.Time // when the call was made
	EventID   string    // the call's audit record (CloudTrail eventID)
	RequestID string    // the call's request id
}

// UsageStore keeps the last use of keys across restarts. A Store that implements it keeps
// them; with one that does not, they live in memory only. Several servers may share a store:
// a usage is kept only if it is later than the one stored (last writer by timestamp).
type UsageStore interface {
	// PutLastUsage stores, in one transaction, each usage of uses (by key id) that is later
	// than the one stored for its key; keys that no longer exist are skipped.
	PutLastUsage(ctx context.Context, uses map[string]KeyUsage) error
	// LastUsage returns the stored usage of key id, ok false if none.
	LastUsage(ctx context.Context, id string) (u KeyUsage, ok bool, err error)
	// TrackingStart returns when the store began tracking usage, first setting it to now if
	// it has not.
	TrackingStart(ctx context.Context, now time.Time) (time.Time, error)
}

// trackedOps are the operations whose success counts as a use of a key
// (KeyLastUsageTrackingOperation).
var trackedOps = map[string]bool{
	"Decrypt": true, "DeriveSharedSecret": true, "Encrypt": true, "GenerateDataKey": true,
	"GenerateDataKeyPair": true, "GenerateDataKeyPairWithoutPlaintext": true,
	"GenerateDataKeyWithoutPlaintext": true, "GenerateMac": true, "ReEncrypt": true,
	"Sign": true, "Verify": true, "VerifyMac": true,
}

// usageTracker holds the last use of each key in memory; the hot path only takes its mutex
// for a map write. FlushUsage writes what changed to the UsageStore in one transaction.
type usageTracker struct {
	mu    sync.Mutex
	last  map[string]KeyUsage // every use seen by this process
	dirty map[string]KeyUsage // uses not yet flushed
	began time.Time           // when this service started tracking (New)
	start time.Time           // the store's tracking start, once read
}

// NoteUse records a successful call op made at t (event and request id as audited) as the
// last use of each key of keyARNs. Calls that are not cryptographic operations are ignored.
// It does no I/O: FlushUsage (RunUsageFlush) writes the uses to the store.
func (s *Service) NoteUse(keyARNs []string, op string, t time.Time, eventID, requestID string) {
	if !trackedOps[op] || len(keyARNs) == 0 {
		return
	}
	u := KeyUsage{Operation: op, Time: t.UTC(), EventID: eventID, RequestID: requestID}
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	for _, arn := range keyARNs {
		_, id, ok := strings.Cut(arn, ":key/")
		if !ok {
			continue
		}
		if prev, ok := s.usage.last[id]; ok && prev.Time.After(u.Time) {
			continue
		}
		s.usage.last[id] = u
		s.usage.dirty[id] = u
	}
}

// forgetUsage drops the uses of a destroyed key.
func (s *Service) forgetUsage(id string) {
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	delete(s.usage.last, id)
	delete(s.usage.dirty, id)
}

// FlushUsage writes the uses noted since the last flush to the store, if it keeps them. On
// failure they are kept for the next flush (unless a later use replaced them).
func (s *Service) FlushUsage(ctx context.Context) error {
	us, ok := s.raw.(UsageStore)
	if !ok {
		return nil
	}
	// The store's tracking start is set before any use is stored, so no stored use predates it.
	if _, err := s.trackingStart(ctx); err != nil {
		return err
	}
	s.usage.mu.Lock()
	batch := s.usage.dirty
	s.usage.dirty = make(map[string]KeyUsage)
	s.usage.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := us.PutLastUsage(ctx, batch); err != nil {
		s.usage.mu.Lock()
		for id, u := range batch {
			if cur, ok := s.usage.dirty[id]; !ok || cur.Time.Before(u.Time) {
				s.usage.dirty[id] = u
			}
		}
		s.usage.mu.Unlock()
		return err
	}
	return nil
}

// RunUsageFlush flushes the noted uses every interval until ctx is done, then once more:
// a crash loses at most the uses of the last interval; an orderly stop loses none.
func (s *Service) RunUsageFlush(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.FlushUsage(context.WithoutCancel(ctx)); err != nil {
				s.log.ErrorContext(ctx, "kms: flushing key usage at shutdown failed", "err", err)
			}
			return
		case <-t.C:
			if err := s.FlushUsage(ctx); err != nil {
				s.log.ErrorContext(ctx, "kms: flushing key usage failed", "err", err)
			}
		}
	}
}

// KeyLastUsageOutput is GetKeyLastUsage's result. Usage is nil when the key has not been used
// since TrackingStartDate.
type KeyLastUsageOutput struct {
	KeyId             string
	KeyCreationDate   time.Time
	TrackingStartDate time.Time
	Usage             *KeyUsage
}

// GetKeyLastUsage returns the last successful cryptographic use of a key of the caller's
// account (named by key id or ARN, never an alias), in any key state.
func (s *Service) GetKeyLastUsage(ctx context.Context, c Caller, keyID string) (KeyLastUsageOutput, error) {
	e, err := s.resolve(ctx, c, keyID, optsKeyOnly, askFor("GetKeyLastUsage"))
	if err != nil {
		return KeyLastUsageOutput{}, err
	}
	k := e.key
	start, err := s.trackingStart(ctx)
	if err != nil {
		return KeyLastUsageOutput{}, s.internal("usage tracking start", err)
	}
	if k.Created.After(start) {
		start = k.Created
	}
	out := KeyLastUsageOutput{KeyId: k.ID, KeyCreationDate: k.Created, TrackingStartDate: start}
	s.usage.mu.Lock()
	u, ok := s.usage.last[k.ID]
	s.usage.mu.Unlock()
	// Another server sharing the store may have used the key later.
	if us, isUS := s.raw.(UsageStore); isUS {
		su, sok, err := us.LastUsage(ctx, k.ID)
		if err != nil {
			return KeyLastUsageOutput{}, s.internal("last usage", err)
		}
		if sok && (!ok || su.Time.After(u.Time)) {
			u, ok = su, true
		}
	}
	if ok {
		out.Usage = &u
	}
	return out, nil
}

// trackingStart returns when usage tracking began: the store's date, or this service's start
// when the store keeps no usage.
func (s *Service) trackingStart(ctx context.Context) (time.Time, error) {
	s.usage.mu.Lock()
	start := s.usage.start
	s.usage.mu.Unlock()
	if !start.IsZero() {
		return start, nil
	}
	start = s.usage.began
	if us, ok := s.raw.(UsageStore); ok {
		var err error
		if start, err = us.TrackingStart(ctx, start); err != nil {
			return time.Time{}, err
		}
	}
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	if s.usage.start.IsZero() {
		s.usage.start = start
	}
	return s.usage.start, nil
}
