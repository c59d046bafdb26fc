package server

import (
	"context"

	"github.com/coffer/coffer/internal/audit"
)

// laterRecorder is the KMS's Recorder: the server's, once openAudit has set it. The KMS is
// opened before the audit trail (it seals the trail's signing key) and records only through
// its scheduler, which starts after the trail is open.
type laterRecorder struct{ s *Server }

var _ audit.Recorder = laterRecorder{}

// Record implements audit.Recorder.
func (r laterRecorder) Record(ctx context.Context, e *audit.Event) error {
	if r.s.audit == nil {
		return nil
	}
	return r.s.audit.Record(ctx, e)
}

// WantsData implements audit.Recorder.
func (r laterRecorder) WantsData(account, objectARN string, readOnly bool) bool {
	return r.s.audit != nil && r.s.audit.WantsData(account, objectARN, readOnly)
}
