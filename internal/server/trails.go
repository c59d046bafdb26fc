package server

import (
	"context"
	"net/http"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/sigv4"
	"github.com/coffer/coffer/internal/trail"
	"github.com/coffer/coffer/internal/trailapi"
)

// trailDeliverEvery is how often the trails' delivery runs by default: log files reach the
// trails' buckets within this of being finished (the Writer finishes one within RollEvery).
const trailDeliverEvery = time.Minute

// openTrails builds the trails (CloudTrail's API and its delivery into buckets), makes them
// the audit Writer's data event selector and starts their delivery; it returns the CloudTrail
// wire layer.
func (s *Server) openTrails(ctx context.Context, cfg Config, objects *object.Service, lookup func(ctx context.Context, accessKey, token string) (sigv4.Credential, error)) (http.Handler, error) {
	tc := trail.Config{Store: s.stores.Trails, Objects: objects, Region: cfg.Region, DigestEvery: cfg.AuditDigestEvery, Logger: s.log,
		Changed: s.published, SelectorTTL: s.cacheTTL()}
	if s.stores.Shared {
		tc.Node = s.nodeID // each node delivers its own records, with its own digest chain
	}
	api := trailapi.Config{Verifier: &sigv4.Verifier{Region: cfg.Region, Service: "cloudtrail", Lookup: lookup}, Audit: s.audit, Logger: s.log}
	if w := s.auditLog; w != nil {
		tc.Logs, tc.Signer = w, s.auditSigner
		api.Events = w
		// Only keys whose private half the KMS holds sealed: a key planted under keys/ is
		// never published to vouch for digests its owner signed.
		api.PublicKeys = func(ctx context.Context) ([]audit.PublicKey, error) {
			return audit.TrustedKeys(ctx, w.Dir(), s.auditSealer)
		}
	}
	s.trails = trail.New(tc)
	api.Trails = s.trails
	if w := s.auditLog; w != nil {
		w.SetDataSelector(s.trails)
		every := cfg.TrailDeliverEvery
		if every <= 0 {
			every = trailDeliverEvery
		}
		s.jobs.Go(func() {
			if err := boltfile.Safely(func() error { s.trails.Run(ctx, every); return nil }); err != nil {
				s.log.Error("trail delivery stopped: reading the store failed", "err", err)
			}
		})
	}
	return trailapi.New(api)
}

// flushTrails delivers, at shutdown, every logging trail's records and a digest of its open
// period, so that no delivered log file waits outside a digest until the next start.
func (s *Server) flushTrails(ctx context.Context) error {
	if s.trails == nil || s.auditLog == nil {
		return nil
	}
	return boltfile.Safely(func() error { return s.trails.Deliver(ctx, true) })
}

// DeliverTrails runs the trails' delivery now, as the shutdown does: the open local log file
// is finished, and every logging trail gets its log files and a digest of its open period.
// For tests and the e2e script (through the admin listener).
func (s *Server) DeliverTrails(ctx context.Context) error { return s.flushTrails(ctx) }
