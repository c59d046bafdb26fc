package iam

import (
	"context"
	"errors"
	"strings"
)

// PrincipalExists reports whether arn names an existing principal, for services that refuse a
// resource policy naming one that does not (KMS key policies): an account's root
// (arn:aws:iam::ACCOUNT:root), a user or a role (arn:aws:iam::ACCOUNT:user/PATH/NAME, role/...,
// the path as stored), a role session (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION: its role
// exists) or a federated user (its account exists). Anything else does not exist.
func (s *Service) PrincipalExists(ctx context.Context, arn string) (bool, error) {
	p, ok := splitPrincipalARN(arn)
	if !ok {
		return false, nil
	}
	if _, ok := s.Account(p.account); !ok {
		return false, nil
	}
	var err error
	switch p.kind {
	case "root", "federated-user":
		return true, nil
	case "user":
		var u User
		if u, err = s.store.GetUser(ctx, p.account, p.name); err == nil {
			return u.ARN() == arn, nil
		}
	case "role":
		var r Role
		if r, err = s.store.GetRole(ctx, p.account, p.name); err == nil {
			return r.ARN() == arn, nil
		}
	case "assumed-role":
		_, err = s.store.GetRole(ctx, p.account, p.name)
	}
	if errors.Is(err, ErrNoSuchEntity) {
		return false, nil
	}
	return err == nil, err
}

// PrincipalExists implements the same for the one account of a Static directory: only its
// root exists.
func (s *Static) PrincipalExists(_ context.Context, arn string) (bool, error) {
	return arn == "arn:aws:iam::"+s.account.ID+":root", nil
}

// principalARN is a principal ARN split: kind is "root", "user", "role", "assumed-role" or
// "federated-user"; name is the user or role name (the role of a session).
type principalARN struct {
	account, kind, name string
}

func splitPrincipalARN(arn string) (principalARN, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[3] != "" || !ValidAccountID(parts[4]) {
		return principalARN{}, false
	}
	p := principalARN{account: parts[4]}
	res := parts[5]
	switch parts[2] {
	case "iam":
		if res == "root" {
			p.kind = "root"
			return p, true
		}
		kind, rest, ok := strings.Cut(res, "/")
		if !ok || kind != "user" && kind != "role" {
			return principalARN{}, false
		}
		p.kind, p.name = kind, rest[strings.LastIndexByte(rest, '/')+1:]
	case "sts":
		kind, rest, ok := strings.Cut(res, "/")
		switch {
		case !ok:
			return principalARN{}, false
		case kind == "assumed-role":
			role, _, ok := strings.Cut(rest, "/")
			if !ok {
				return principalARN{}, false
			}
			p.kind, p.name = kind, role
		case kind == "federated-user":
			p.kind, p.name = kind, rest
		default:
			return principalARN{}, false
		}
	default:
		return principalARN{}, false
	}
	return p, p.name != ""
}
