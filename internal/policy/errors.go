package policy

import "fmt"

// Error is why Parse refused a document. Message is worded as AWS words it ("Invalid principal
// in policy", "Policy has invalid action", "Missing required field Principal", ...); the wire
// layers map an *Error to S3 MalformedPolicy, KMS MalformedPolicyDocumentException or IAM
// MalformedPolicyDocument, and may reword it by Reason where their service words it otherwise.
type Error struct {
	Message string
	Reason  Reason
}

func (e *Error) Error() string { return e.Message }

// Reason classifies a refusal, for wire layers whose service words it differently.
type Reason int

const (
	ReasonSyntax          Reason = iota // not JSON, not an object, an element of the wrong JSON type
	ReasonUnknownField                  // a member the grammar does not have
	ReasonMissingField                  // Statement, Effect, Action, Resource or Principal missing
	ReasonProhibitedField               // a member this kind of policy may not have (Principal in an identity policy, ...)
	ReasonVersion                       // a Version other than 2012-10-17 or 2008-10-17
	ReasonSid                           // a Sid that is not a string, not alphanumeric (IAM) or repeated
	ReasonEffect                        // an Effect other than Allow or Deny
	ReasonPrincipal                     // an invalid Principal or NotPrincipal
	ReasonAction                        // an invalid Action or NotAction
	ReasonResource                      // an invalid Resource or NotResource
	ReasonCondition                     // an unknown operator, an invalid key or value
)

func refuse(r Reason, msg string) *Error { return &Error{Message: msg, Reason: r} }

func refusef(r Reason, format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...), Reason: r}
}
