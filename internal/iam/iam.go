// Package iam holds Coffer's accounts, principals, users, roles, access keys, identity
// policies and STS role sessions: the Store interface (backends in subpackages, one
// conformance suite in iamtest) and the Service that the IAM and STS wire layer and the
// request authentication of every wire layer use.
package iam

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/coffer/coffer/internal/policy"
	"github.com/coffer/coffer/internal/secret"
)

// Principal is an authenticated caller.
type Principal struct {
	AccountID string // 12-digit account id
	// DisplayName is the account's display name, which S3 shows beside the id wherever it
	// names an owner.
	DisplayName string
	ARN         string // arn:aws:iam::<account>:root or arn:aws:iam::<account>:user/<name>
	AccessKey   string
	Root        bool
	// Type is the aws:PrincipalType: PrincipalAccount, PrincipalUser, PrincipalAssumedRole or
	// PrincipalAnonymous.
	Type string
	// UserName is the IAM user's name (aws:username), "" for other principals.
	UserName string
	// UserID is the principal's unique id (aws:userid): the account id for the root user,
	// the user's AIDA... id, or "AROA...:session" for a role session.
	UserID string
	// RoleARN is the role of an assumed-role session (arn:aws:iam::<account>:role/<name>),
	// the value of aws:PrincipalArn for it; "" for other principals.
	RoleARN string
	// SessionName is an assumed-role session's name, "" for other principals.
	SessionName string
	// Policies are the identity-based policies in force: a user's or role's inline and
	// attached managed policies, parsed once when loaded, never per request. None for the
	// account root, which holds every permission in its own account.
	Policies []*policy.Policy
	// SessionPolicies are the session policies of a role session (AssumeRole's Policy and
	// PolicyArns): when present, what the identity policies allow is limited to what they
	// allow too.
	SessionPolicies []*policy.Policy
}

// Account is an account as others see it: what S3 renders as an Owner.
type Account struct {
	ID          string // 12-digit account id
	DisplayName string
}

// Directory resolves the access key of a request to its principal and secret, and account ids
// to accounts.
type Directory interface {
	// Lookup returns the credential of accessKey, given the session token the request carried
	// ("" for none): the one credential lookup of a request. It fails with
	// ErrUnknownAccessKey (unknown or inactive key), ErrInvalidToken (a session token missing,
	// wrong, or given with a long-term key), ErrExpiredToken, or a store error.
	Lookup(ctx context.Context, accessKey, sessionToken string) (Credential, error)
	// Account returns the account of an id, or ok == false if there is none.
	Account(id string) (a Account, ok bool)
}

// Credential is an access key's owner and secret.
type Credential struct {
	Principal Principal
	// Secret is the secret access key. It is shared with the directory's cache: do not
	// Destroy it.
	Secret secret.Bytes
}

// Lookup errors.
var (
	ErrUnknownAccessKey = errors.New("iam: unknown or inactive access key")
	ErrInvalidToken     = errors.New("iam: invalid session token")
	ErrExpiredToken     = errors.New("iam: session token expired")
)

// Static is a Directory with one root access key of one account.
type Static struct {
	account   Account
	accessKey string
	secretKey secret.Bytes
}

var _ Directory = (*Static)(nil)

// NewStatic returns a Directory holding the root key of the account.
func NewStatic(account Account, accessKey, secretKey string) (*Static, error) {
	if !ValidAccountID(account.ID) {
		return nil, fmt.Errorf("iam: account id %q is not 12 digits", account.ID)
	}
	if accessKey == "" || secretKey == "" {
		return nil, fmt.Errorf("iam: empty access key or secret key")
	}
	return &Static{account: account, accessKey: accessKey, secretKey: secret.BytesFrom([]byte(secretKey))}, nil
}

// Account implements Directory.
func (s *Static) Account(id string) (Account, bool) {
	if id != s.account.ID {
		return Account{}, false
	}
	return s.account, true
}

// Lookup implements Directory.
func (s *Static) Lookup(_ context.Context, accessKey, sessionToken string) (Credential, error) {
	if subtle.ConstantTimeCompare([]byte(accessKey), []byte(s.accessKey)) != 1 {
		return Credential{}, ErrUnknownAccessKey
	}
	if sessionToken != "" {
		return Credential{}, ErrInvalidToken
	}
	return Credential{Principal: RootPrincipal(s.account, s.accessKey), Secret: s.secretKey}, nil
}

// RootPrincipal returns the root user of an account, signing with accessKey.
func RootPrincipal(a Account, accessKey string) Principal {
	return Principal{
		AccountID:   a.ID,
		DisplayName: a.DisplayName,
		ARN:         "arn:aws:iam::" + a.ID + ":root",
		AccessKey:   accessKey,
		Root:        true,
		Type:        PrincipalAccount,
		UserID:      a.ID,
	}
}

// ValidAccountID reports whether id is a 12-digit account id.
func ValidAccountID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}
