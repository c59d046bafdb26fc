// Package audit keeps Coffer's audit trail: one record per request in CloudTrail's record
// shape, written durably under DIR/audit as gzip log files, chained by hourly digest files
// signed SHA256withRSA exactly as CloudTrail signs them, and verifiable offline. SPEC.md states
// the file formats; the wire layers and the KMS adapter for S3 make the records, the Writer
// keeps them, Verify checks them.
package audit

import "context"

// Event sources, as CloudTrail names them.
const (
	SourceKMS        = "kms.amazonaws.com"
	SourceS3         = "s3.amazonaws.com"
	SourceIAM        = "iam.amazonaws.com"
	SourceSTS        = "sts.amazonaws.com"
	SourceCloudTrail = "cloudtrail.amazonaws.com"
)

// Event types and categories.
const (
	TypeAPICall        = "AwsApiCall"      // a request a principal made
	TypeServiceEvent   = "AwsServiceEvent" // something the service did by itself (rotation, deletion)
	CategoryManagement = "Management"
	CategoryData       = "Data"
)

// EventVersion is the record format version Coffer writes.
const EventVersion = "1.09"

// Event is one audit record, in CloudTrail's record shape (CloudTrail record contents,
// eventVersion 1.09). It never holds plaintext, ciphertext blobs, data keys, customer keys,
// secret keys, session tokens or SSE-C key material: whoever fills RequestParameters and
// ResponseElements leaves them out.
type Event struct {
	EventVersion        string         `json:"eventVersion"`
	UserIdentity        UserIdentity   `json:"userIdentity"`
	EventTime           string         `json:"eventTime"` // UTC, "2006-01-02T15:04:05Z"
	EventSource         string         `json:"eventSource"`
	EventName           string         `json:"eventName"`
	AWSRegion           string         `json:"awsRegion"`
	SourceIPAddress     string         `json:"sourceIPAddress"`
	UserAgent           string         `json:"userAgent"`
	ErrorCode           string         `json:"errorCode,omitempty"`
	ErrorMessage        string         `json:"errorMessage,omitempty"`
	RequestParameters   map[string]any `json:"requestParameters"` // null when there are none
	ResponseElements    map[string]any `json:"responseElements"`  // null for crypto operations
	AdditionalEventData map[string]any `json:"additionalEventData,omitempty"`
	RequestID           string         `json:"requestID"`
	EventID             string         `json:"eventID"` // a random UUID
	ReadOnly            bool           `json:"readOnly"`
	Resources           []Resource     `json:"resources,omitempty"`
	EventType           string         `json:"eventType"`
	ManagementEvent     bool           `json:"managementEvent"`
	RecipientAccountID  string         `json:"recipientAccountId"`
	SharedEventID       string         `json:"sharedEventID,omitempty"` // the same in each account's copy of a cross-account event
	ServiceEventDetails map[string]any `json:"serviceEventDetails,omitempty"`
	EventCategory       string         `json:"eventCategory"`
	TLSDetails          *TLSDetails    `json:"tlsDetails,omitempty"`
}

// UserIdentity is who made the request (CloudTrail userIdentity element).
type UserIdentity struct {
	Type           string          `json:"type,omitempty"` // Root, IAMUser, AssumedRole, AWSAccount, AWSService, Unknown
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
	// InvokedBy names the service that made the call on the principal's behalf
	// ("s3.amazonaws.com"), or "AWS Internal" for the service's own events.
	InvokedBy string `json:"invokedBy,omitempty"`
}

// SessionContext describes the role session of an AssumedRole identity.
type SessionContext struct {
	SessionIssuer *SessionIssuer    `json:"sessionIssuer,omitempty"`
	Attributes    SessionAttributes `json:"attributes"`
}

// SessionIssuer is the role a session was issued for.
type SessionIssuer struct {
	Type        string `json:"type"` // "Role"
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// SessionAttributes are a session's creation date and MFA state.
type SessionAttributes struct {
	CreationDate     string `json:"creationDate,omitempty"`
	MFAAuthenticated string `json:"mfaAuthenticated"` // "false"
}

// Resource is one resource an event touched.
type Resource struct {
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type"` // AWS::KMS::Key, AWS::S3::Bucket, AWS::S3::Object, AWS::IAM::User ...
	ARN       string `json:"ARN"`
}

// TLSDetails is the TLS of the request's connection.
type TLSDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// Recorder takes the records of a server.
type Recorder interface {
	// Record keeps e durably: it returns once e would survive a crash or kill -9 of the
	// process (and, with the Writer's flush-always policy, of the machine). A wire layer
	// records a request before it answers it, and fails the request (500) when Record fails:
	// an acknowledged request always has its record.
	Record(ctx context.Context, e *Event) error
	// WantsData reports whether some logging trail selects S3 data events on the object ARN
	// (arn:aws:s3:::bucket/key) of account, reads when readOnly, else writes. Management
	// events are always recorded; data events only when this says so.
	WantsData(account, objectARN string, readOnly bool) bool
}

// Discard is a Recorder that keeps nothing: auditing switched off (`coffer server --no-audit`).
type Discard struct{}

// Record implements Recorder.
func (Discard) Record(context.Context, *Event) error { return nil }

// WantsData implements Recorder.
func (Discard) WantsData(string, string, bool) bool { return false }
