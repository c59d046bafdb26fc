package trailapi

import (
	"crypto/tls"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/iam"
)

// newEvent starts the audit record of a CloudTrail call.
// TODO(merge auditrecords): audit.NewEvent(ri, audit.SourceCloudTrail, op).
func newEvent(ri *iam.Request, op string) *audit.Event {
	p := ri.Principal
	u := audit.UserIdentity{PrincipalID: p.UserID, ARN: p.ARN, AccountID: p.AccountID, AccessKeyID: p.AccessKey, UserName: p.UserName}
	switch p.Type {
	case iam.PrincipalAccount:
		u.Type, u.PrincipalID = "Root", p.AccountID
	case iam.PrincipalUser:
		u.Type = "IAMUser"
	default:
		u.Type = "AssumedRole"
	}
	e := &audit.Event{EventVersion: audit.EventVersion, UserIdentity: u, EventTime: ri.Time.UTC().Format(audit.TimeFormat),
		EventSource: audit.SourceCloudTrail, EventName: op, AWSRegion: ri.Region, UserAgent: ri.UserAgent, RequestID: ri.RequestID,
		EventType: audit.TypeAPICall, ManagementEvent: true, EventCategory: audit.CategoryManagement, RecipientAccountID: p.AccountID}
	if ri.SourceIP.IsValid() {
		e.SourceIPAddress = ri.SourceIP.String()
	}
	return e
}

// tlsDetails is the record's tlsDetails. TODO(merge auditrecords): audit.TLS.
func tlsDetails(cs *tls.ConnectionState, host string) *audit.TLSDetails {
	v := "TLSv1.3"
	if cs.Version == tls.VersionTLS12 {
		v = "TLSv1.2"
	}
	return &audit.TLSDetails{TLSVersion: v, CipherSuite: tls.CipherSuiteName(cs.CipherSuite), ClientProvidedHostHeader: host}
}
