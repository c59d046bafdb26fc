// Package trail keeps CloudTrail's trails: where each delivers (a Coffer bucket, a key prefix),
// which events it selects (event selectors), whether it is logging, and how far its delivery
// has come (a cursor over the audit Writer's finished log files and the state of its digest
// chain). Service answers the CloudTrail API's trail operations; Deliverer copies the records
// each logging trail selects into its bucket in CloudTrail's key layout and signs hourly digest
// files there as CloudTrail does, so that `aws cloudtrail validate-logs` can check them.
package trail

import (
	"net/netip"
	"strings"
	"time"
)

// Trail is one trail of an account, with its selectors, status and delivery state.
type Trail struct {
	Account                    string
	Name                       string
	HomeRegion                 string
	S3BucketName               string
	S3KeyPrefix                string // "" for none
	IncludeGlobalServiceEvents bool
	IsMultiRegionTrail         bool
	LogFileValidationEnabled   bool
	Created                    time.Time
	Tags                       []Tag `json:",omitempty"`
	// EventSelectors and AdvancedEventSelectors are what PutEventSelectors set; at most one
	// of the two is non-empty. HasCustomEventSelectors is false until PutEventSelectors: the
	// trail then logs every management event and no data event.
	EventSelectors          []EventSelector         `json:",omitempty"`
	AdvancedEventSelectors  []AdvancedEventSelector `json:",omitempty"`
	HasCustomEventSelectors bool
	Status                  Status
	// Delivery is the trail's delivery state when one node delivers it (an embedded store).
	Delivery Delivery
	// Deliveries is the delivery state of each node, by node id, when several nodes share the
	// trail store (Config.Node set): each node delivers its own local log files with its own
	// cursor and its own digest chain, and changes only its own entry. Delivery is then unused.
	Deliveries map[string]NodeDelivery `json:",omitempty"`
}

// ARN is the trail's ARN, arn:aws:cloudtrail:<home region>:<account>:trail/<name>.
func (t *Trail) ARN() string {
	return ARN(t.HomeRegion, t.Account, t.Name)
}

// ARN returns the ARN of trail name of account in region.
func ARN(region, account, name string) string {
	return "arn:aws:cloudtrail:" + region + ":" + account + ":trail/" + name
}

// Tag is a trail's tag.
type Tag struct {
	Key   string
	Value string `json:",omitempty"`
}

// Status is a trail's logging status, as GetTrailStatus shows it.
type Status struct {
	IsLogging                 bool
	StartLoggingTime          time.Time
	StopLoggingTime           time.Time
	LatestDeliveryTime        time.Time
	LatestDeliveryAttemptTime time.Time
	LatestDeliveryError       string `json:",omitempty"`
	LatestDigestDeliveryTime  time.Time
	LatestDigestDeliveryError string `json:",omitempty"`
}

// Delivery is how far a trail's delivery has come. It changes only after the object it
// describes is written, in the same store update that records it, so a delivery interrupted
// by a crash is redone from the same point (see Deliverer).
type Delivery struct {
	// Cursor is the name of the last local log file whose records were delivered (or were
	// found to hold none for this trail); the next delivery starts after it.
	Cursor string
	// Pending are the log files delivered since the last digest, in delivery order: the next
	// digest lists them.
	Pending []DeliveredLog `json:",omitempty"`
	// PeriodStart is the start of the open digest period (digestStartTime of the next digest).
	PeriodStart time.Time
	// Previous is the last digest of the chain; nil when the next digest starts a chain (the
	// first since StartLogging).
	Previous *DigestLink `json:",omitempty"`
	// LastDigestEnd is the end time of the trail's last digest, over all its chains: the next
	// one ends later, so two digests never share a key.
	LastDigestEnd time.Time
	// Closing is set while the chain's final digest is owed: StopLogging or DeleteTrail ended
	// the logging, and the digest of the period up to StopLoggingTime is not yet written.
	Closing bool `json:",omitempty"`
}

// NodeDelivery is how far one node's delivery of a trail has come, when several nodes share
// the trail store. It belongs to one logging session of the trail, the one that started at
// From: a StartLogging on any node starts a new session, and the node's chain of the session
// before ends with a final digest first.
type NodeDelivery struct {
	Delivery
	// From is the StartLoggingTime of the session: the node delivers its records from From on.
	From time.Time
	// Until is the end of the session once the node has seen it end (its StopLoggingTime);
	// zero while it logs. The node delivers no record after Until.
	Until time.Time `json:",omitzero"`
}

// DeliveredLog is one log file delivered into the trail's bucket, as its digest lists it.
type DeliveredLog struct {
	S3Bucket        string
	S3Object        string
	SHA256          string // hex SHA-256 of the uncompressed file
	OldestEventTime time.Time
	NewestEventTime time.Time
}

// DigestLink is what the next digest says of the previous one.
type DigestLink struct {
	S3Bucket  string
	S3Object  string
	SHA256    string // hex SHA-256 of the uncompressed digest file
	Signature string // hex
}

// Event selectors (CloudTrail's EventSelector and AdvancedEventSelector).
type (
	// EventSelector is a basic event selector.
	EventSelector struct {
		ReadWriteType                 string // ReadOnly, WriteOnly or All
		IncludeManagementEvents       bool
		DataResources                 []DataResource `json:",omitempty"`
		ExcludeManagementEventSources []string       `json:",omitempty"`
	}
	// DataResource selects data events on the resources of a type whose ARN starts with one
	// of Values.
	DataResource struct {
		Type   string
		Values []string
	}
	// AdvancedEventSelector selects the events every one of its field selectors matches.
	AdvancedEventSelector struct {
		Name           string `json:",omitempty"`
		FieldSelectors []FieldSelector
	}
	// FieldSelector is a condition on one field of an event.
	FieldSelector struct {
		Field         string
		Equals        []string `json:",omitempty"`
		StartsWith    []string `json:",omitempty"`
		EndsWith      []string `json:",omitempty"`
		NotEquals     []string `json:",omitempty"`
		NotStartsWith []string `json:",omitempty"`
		NotEndsWith   []string `json:",omitempty"`
	}
)

// Read/write types of a basic event selector.
const (
	ReadOnly  = "ReadOnly"
	WriteOnly = "WriteOnly"
	ReadWrite = "All"
)

// S3ObjectType is the resource type of S3 data events.
const S3ObjectType = "AWS::S3::Object"

// MaxTrailsPerRegion is how many trails an account may have in a region.
const MaxTrailsPerRegion = 5

// ValidName reports whether name is a valid trail name: 3 to 128 ASCII letters, digits, '.',
// '_' and '-', starting and ending with a letter or digit, no two of '.', '_', '-' adjacent,
// and not an IP address.
func ValidName(name string) bool {
	if len(name) < 3 || len(name) > 128 {
		return false
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if alnum(c) {
			continue
		}
		if c != '.' && c != '_' && c != '-' {
			return false
		}
		if !alnum(name[i-1]) {
			return false
		}
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return false
	}
	return true
}

// ParseARN splits a trail ARN into its region, account and name; ok is false when s is not
// one.
func ParseARN(s string) (region, account, name string, ok bool) {
	rest, ok := strings.CutPrefix(s, "arn:aws:cloudtrail:")
	if !ok {
		return "", "", "", false
	}
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) != 3 || parts[0] == "" || len(parts[1]) != 12 {
		return "", "", "", false
	}
	for _, c := range parts[1] {
		if c < '0' || c > '9' {
			return "", "", "", false
		}
	}
	name, ok = strings.CutPrefix(parts[2], "trail/")
	if !ok || name == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], name, true
}
