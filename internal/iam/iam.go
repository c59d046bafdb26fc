// Package iam holds Coffer's accounts, principals and access keys.
//
// For now there is one account with one root access key; users, groups and identity policies
// arrive with the policy work and extend Directory without changing its callers.
package iam

import (
	"crypto/subtle"
	"fmt"
)

// Principal is an authenticated caller.
type Principal struct {
	AccountID string // 12-digit account id
	ARN       string // arn:aws:iam::<account>:root or arn:aws:iam::<account>:user/<name>
	AccessKey string
	Root      bool
}

// Directory resolves access keys to principals and their secrets.
type Directory interface {
	// Lookup returns the principal owning accessKey and its secret key, or ok == false.
	Lookup(accessKey string) (p Principal, secretKey string, ok bool)
}

// Static is a Directory with one root access key of one account.
type Static struct {
	accountID string
	accessKey string
	secretKey string
}

var _ Directory = (*Static)(nil)

// NewStatic returns a Directory holding the root key of accountID.
func NewStatic(accountID, accessKey, secretKey string) (*Static, error) {
	if !ValidAccountID(accountID) {
		return nil, fmt.Errorf("iam: account id %q is not 12 digits", accountID)
	}
	if accessKey == "" || secretKey == "" {
		return nil, fmt.Errorf("iam: empty access key or secret key")
	}
	return &Static{accountID: accountID, accessKey: accessKey, secretKey: secretKey}, nil
}

// Lookup implements Directory.
func (s *Static) Lookup(accessKey string) (Principal, string, bool) {
	if subtle.ConstantTimeCompare([]byte(accessKey), []byte(s.accessKey)) != 1 {
		return Principal{}, "", false
	}
	return Principal{
		AccountID: s.accountID,
		ARN:       "arn:aws:iam::" + s.accountID + ":root",
		AccessKey: s.accessKey,
		Root:      true,
	}, s.secretKey, true
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
