package policy

import "strings"

// Inputs are the policies in force for one request, which Decide combines.
type Inputs struct {
	// Identity holds the principal's identity-based policies (inline and attached managed).
	Identity []*Policy
	// IdentityAll is set when the principal holds every identity permission: an account's
	// root user for its own account's S3 resources.
	IdentityAll bool
	// Session holds a role session's session policies: when there are any, what identity
	// policies (and resource policies naming the role rather than the session) allow is
	// limited to what they allow too.
	Session []*Policy
	// Resource is the bucket or key policy, nil if none.
	Resource *Policy
	// ResourceAccount is the account owning the resource.
	ResourceAccount string
	// ResourceAuthoritative is KMS's rule: the key policy decides; identity policies count
	// only where the key policy allows the principal's account (AllowAccount, or Allow for the
	// root user).
	ResourceAuthoritative bool
	// GrantAllows is set when a KMS grant allows the action: it adds a permission; an
	// explicit deny still wins.
	GrantAllows bool
}

// Who denied, as AWS's AccessDenied messages name it.
const (
	DeniedByIdentity = "identity-based policy"
	DeniedByResource = "resource-based policy"
	DeniedBySession  = "session policy"
)

// Decision is the outcome of Decide.
type Decision struct {
	Allowed bool
	// ExplicitDeny is set when a Deny statement matched.
	ExplicitDeny bool
	// DeniedBy names the policy type of the explicit deny ("... with an explicit deny in a
	// resource-based policy") or of the missing allow ("... because no identity-based policy
	// allows the s3:PutObject action"): DeniedByIdentity, DeniedByResource, DeniedBySession, or
	// "" when allowed.
	DeniedBy string
}

// DeniedMessage is AWS's AccessDenied text for a refusal of principal (an ARN) doing action
// on resource, written as given (S3 quotes it): "... with an explicit deny in a
// resource-based policy", or "... because no identity-based policy allows the kms:Encrypt
// action"; kind is the policy type (DeniedByIdentity, DeniedByResource, DeniedBySession).
func DeniedMessage(principal, action, resource string, explicitDeny bool, kind string) string {
	msg := "User: " + principal + " is not authorized to perform: " + action + " on resource: " + resource
	if !explicitDeny {
		return msg + " because no " + kind + " allows the " + action + " action"
	}
	article := "a"
	if kind != "" && strings.ContainsRune("aeiou", rune(kind[0])) {
		article = "an"
	}
	return msg + " with an explicit deny in " + article + " " + kind
}

// Decide combines the policies in force for r as AWS's "Policy evaluation logic",
// "Cross-account policy evaluation logic" and KMS's "Determining access to an AWS KMS key"
// document: an explicit deny in any policy denies; within one account an allow from the
// identity or the resource policy suffices; across accounts both must allow; a KMS key policy
// is authoritative and lets identity policies count only where it delegates to the account; a
// grant adds a permission.
func Decide(r *Request, in Inputs) Decision {
	identity := combine(in.Identity, r)
	session := combine(in.Session, r)
	resource, direct := NotApplicable, false
	if in.Resource != nil {
		resource, direct = in.Resource.evaluate(r)
	}
	switch {
	case identity == Deny:
		return Decision{ExplicitDeny: true, DeniedBy: DeniedByIdentity}
	case session == Deny:
		return Decision{ExplicitDeny: true, DeniedBy: DeniedBySession}
	case resource == Deny:
		return Decision{ExplicitDeny: true, DeniedBy: DeniedByResource}
	}

	if r.Principal.Anonymous {
		if resource == Allow {
			return Decision{Allowed: true}
		}
		return Decision{DeniedBy: DeniedByResource}
	}

	limited := len(in.Session) > 0
	identityAllows := in.IdentityAll || identity == Allow
	sessionAllows := !limited || session == Allow
	// A resource policy naming the session's own ARN grants to the session directly; one naming
	// the role, the user or "*" is limited by the session policies like identity policies.
	resourceAllows := resource == Allow && (direct || sessionAllows)
	delegated := resource == AllowAccount || resource == Allow
	sameAccount := r.Principal.Account != "" && r.Principal.Account == in.ResourceAccount

	var allowed bool
	switch {
	case in.ResourceAuthoritative && sameAccount:
		allowed = resourceAllows || (resource == AllowAccount && identityAllows && sessionAllows)
	case in.ResourceAuthoritative:
		allowed = delegated && identityAllows && sessionAllows
	case sameAccount:
		allowed = resourceAllows || (identityAllows && sessionAllows)
	default:
		allowed = delegated && identityAllows && sessionAllows
	}
	if allowed || in.GrantAllows {
		return Decision{Allowed: true}
	}

	switch {
	case !sessionAllows && (identityAllows || resource == Allow):
		return Decision{DeniedBy: DeniedBySession}
	case in.ResourceAuthoritative && !delegated:
		return Decision{DeniedBy: DeniedByResource}
	case !sameAccount && identityAllows:
		return Decision{DeniedBy: DeniedByResource}
	}
	return Decision{DeniedBy: DeniedByIdentity}
}

// combine evaluates a set of policies of one type: Deny if any denies, else Allow if any
// allows, else NotApplicable.
func combine(policies []*Policy, r *Request) Effect {
	e := NotApplicable
	for _, p := range policies {
		switch p.Evaluate(r) {
		case Deny:
			return Deny
		case Allow, AllowAccount:
			e = Allow
		}
	}
	return e
}
