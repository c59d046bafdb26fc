package audit

import (
	"crypto/tls"
	"strings"

	"github.com/coffer/coffer/internal/iam"
)

// What CloudTrail writes for callers and sources that are not a principal at an address.
const (
	// AWSInternal is the invokedBy and sourceIPAddress of the service's own events.
	AWSInternal = "AWS Internal"
	// InvokedByS3 names S3 as the service that called the KMS on a requester's behalf.
	InvokedByS3 = "s3.amazonaws.com"
	// anonymousAccount is the accountId of an unsigned S3 request's AWSAccount identity.
	anonymousAccount = "anonymous"
)

// NewEvent starts the record of an API call that r made to source (SourceKMS, SourceS3 ...),
// named name (the operation): who, from where, when, as a Management event of type
// AwsApiCall received by the caller's account. The caller fills in the parameters,
// resources and outcome, and records it before answering.
func NewEvent(r *iam.Request, source, name string) *Event {
	e := &Event{
		EventVersion:    EventVersion,
		UserIdentity:    Identity(r.Principal),
		EventTime:       FormatTime(r.Time),
		EventSource:     source,
		EventName:       name,
		AWSRegion:       r.Region,
		UserAgent:       r.UserAgent,
		RequestID:       r.RequestID,
		EventType:       TypeAPICall,
		ManagementEvent: true,
		EventCategory:   CategoryManagement,
	}
	if r.SourceIP.IsValid() {
		e.SourceIPAddress = r.SourceIP.String()
	}
	e.RecipientAccountID = e.UserIdentity.AccountID
	if r.Principal.Type == iam.PrincipalAnonymous {
		e.RecipientAccountID = ""
	}
	return e
}

// Identity returns the userIdentity of a principal, as CloudTrail shows each kind: the
// account root, an IAM user, a role session (with the role as its session issuer), or an
// anonymous caller (an AWSAccount identity of account "anonymous", as S3 records it).
func Identity(p iam.Principal) UserIdentity {
	u := UserIdentity{PrincipalID: p.UserID, ARN: p.ARN, AccountID: p.AccountID, AccessKeyID: p.AccessKey}
	switch p.Type {
	case iam.PrincipalAccount:
		u.Type = "Root"
		u.PrincipalID = p.AccountID
	case iam.PrincipalUser:
		u.Type = "IAMUser"
		u.UserName = p.UserName
	case iam.PrincipalAssumedRole:
		u.Type = "AssumedRole"
		roleID, _, _ := strings.Cut(p.UserID, ":")
		roleName := p.RoleARN[strings.LastIndexByte(p.RoleARN, '/')+1:]
		u.SessionContext = &SessionContext{
			SessionIssuer: &SessionIssuer{Type: "Role", PrincipalID: roleID, ARN: p.RoleARN, AccountID: p.AccountID, UserName: roleName},
			Attributes:    SessionAttributes{MFAAuthenticated: "false"},
		}
	default:
		return UserIdentity{Type: "AWSAccount", AccountID: anonymousAccount}
	}
	return u
}

// TLS returns the tlsDetails of a request that came over cs (nil when it did not), with the
// Host header the client sent.
func TLS(cs *tls.ConnectionState, host string) *TLSDetails {
	if cs == nil {
		return nil
	}
	v := "TLSv1.3"
	if cs.Version == tls.VersionTLS12 {
		v = "TLSv1.2"
	}
	return &TLSDetails{TLSVersion: v, CipherSuite: cipherSuiteName(cs.CipherSuite), ClientProvidedHostHeader: host}
}

// cipherSuiteName is tls.CipherSuiteName without its cost for the suites a server negotiates
// (tls.CipherSuiteName builds the list of every suite on each call).
func cipherSuiteName(id uint16) string {
	switch id {
	case tls.TLS_AES_128_GCM_SHA256:
		return "TLS_AES_128_GCM_SHA256"
	case tls.TLS_AES_256_GCM_SHA384:
		return "TLS_AES_256_GCM_SHA384"
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		return "TLS_CHACHA20_POLY1305_SHA256"
	case tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
	case tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		return "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
	case tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
		return "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
	case tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
	}
	return tls.CipherSuiteName(id)
}

// Fail marks the call as failed with the error code the client got (the KMS exception name,
// the S3 or IAM error code) and its message.
func (e *Event) Fail(code, message string) *Event {
	e.ErrorCode, e.ErrorMessage = code, message
	return e
}

// InvokedBy marks the call as made by service (InvokedByS3) on the principal's behalf, as
// CloudTrail shows the KMS calls S3 makes for SSE: the service is the source address and the
// user agent.
func (e *Event) InvokedBy(service string) *Event {
	e.UserIdentity.InvokedBy = service
	e.SourceIPAddress, e.UserAgent = service, service
	e.TLSDetails = nil
	return e
}

// ServiceEvent starts the record of something a service did by itself in account (automatic
// key rotation, key deletion after its waiting period): an AwsServiceEvent whose identity is
// the account invoked by "AWS Internal", without request parameters. Its eventTime is left
// to the Recorder (the time it is recorded).
func ServiceEvent(account, region, source, name string) *Event {
	return &Event{
		EventVersion:       EventVersion,
		UserIdentity:       UserIdentity{AccountID: account, InvokedBy: AWSInternal},
		EventSource:        source,
		EventName:          name,
		AWSRegion:          region,
		SourceIPAddress:    AWSInternal,
		UserAgent:          AWSInternal,
		EventType:          TypeServiceEvent,
		ManagementEvent:    true,
		RecipientAccountID: account,
		EventCategory:      CategoryManagement,
	}
}

// MemberName returns the name CloudTrail gives a request or response member in a record: the
// wire name with its first letter in lower case (KeyId → keyId, AWSAccountId → aWSAccountId).
func MemberName(name string) string {
	if name == "" || name[0] < 'A' || name[0] > 'Z' {
		return name
	}
	return string(name[0]+'a'-'A') + name[1:]
}
