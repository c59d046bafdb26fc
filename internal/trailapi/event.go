package trailapi

import (
	"crypto/tls"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/iam"
)

// newEvent starts the audit record of a CloudTrail call.
func newEvent(ri *iam.Request, op string) *audit.Event {
	return audit.NewEvent(ri, audit.SourceCloudTrail, op)
}

// tlsDetails is the record's tlsDetails.
func tlsDetails(cs *tls.ConnectionState, host string) *audit.TLSDetails { return audit.TLS(cs, host) }
