package server

import (
	"context"
	"errors"

	"github.com/coffer/coffer/internal/kms"
)

// laterPrincipals is the KMS's Principals: the identity service, once open. The KMS is opened
// first (the identity service seals its secrets with it); no key policy is set before both are.
type laterPrincipals struct{ s *Server }

var _ kms.Principals = laterPrincipals{}

// PrincipalExists implements kms.Principals.
func (p laterPrincipals) PrincipalExists(ctx context.Context, arn string) (bool, error) {
	if p.s.iam == nil {
		return false, errors.New("server: the identity service is not open")
	}
	return p.s.iam.PrincipalExists(ctx, arn)
}
