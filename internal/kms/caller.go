package kms

import (
	"strings"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/policy"
)

// Caller is the authenticated principal on whose behalf an operation runs, with what its
// authorization needs: its identity policies and the request's global condition keys. The
// wire layers build it once per request from the request identity (CallerFrom).
type Caller struct {
	Account string // 12-digit account id
	ARN     string // principal ARN
	// RoleARN is the role of an assumed-role session (a key policy naming the role matches
	// its sessions), "" for other principals.
	RoleARN string
	// Policies are the principal's identity-based policies (inline and attached managed);
	// SessionPolicies limit a role session's identity permissions when not empty.
	Policies        []*policy.Policy
	SessionPolicies []*policy.Policy
	// Conditions are the request's global condition keys (aws:..., lower-cased names), nil
	// when the caller is known only by account and ARN or by its request.
	Conditions map[string][]string
	// request is the caller's request when CallerFrom made it: its global condition keys
	// are put straight into each authorization's map (callerConditions), not built first.
	request *iam.Request
	// ViaService is kms:ViaService of a call an AWS service makes on the principal's behalf
	// (e.g. s3.us-east-1.amazonaws.com), "" for a direct call; for policy conditions.
	ViaService string
}

// CallerFrom returns the Caller of an authenticated request.
func CallerFrom(r *iam.Request) Caller {
	p := r.Principal
	return Caller{
		Account: p.AccountID, ARN: p.ARN, RoleARN: p.RoleARN,
		Policies: p.Policies, SessionPolicies: p.SessionPolicies,
		request: r,
	}
}

// root reports whether the caller is its account's root user, which holds every identity
// permission in its own account.
func (c Caller) root() bool {
	return c.RoleARN == "" && strings.HasPrefix(c.ARN, "arn:") && strings.HasSuffix(c.ARN, ":iam::"+c.Account+":root")
}

// anonymous reports a caller without an account: no principal signed the request.
func (c Caller) anonymous() bool { return c.Account == "" }

// principal is the caller as policies match it.
func (c Caller) principal() policy.Principal {
	return policy.Principal{ARN: c.ARN, Account: c.Account, RoleARN: c.RoleARN}
}
