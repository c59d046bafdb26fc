package object

import (
	"fmt"

	"github.com/coffer/coffer/internal/policy"
)

// DefaultPolicyCacheEntries bounds the compiled bucket policies kept in memory.
const DefaultPolicyCacheEntries = 1024

// bucketPolicy returns the compiled form of a stored bucket policy, nil for none, parsing each
// text once (policy.Cache): the text is read with the bucket on every request, so every node
// sharing a metadata store enforces the policy stored now. Stored policies were validated when
// put, so an error means a damaged record.
func (s *Service) bucketPolicy(doc string) (*policy.Policy, error) {
	if doc == "" {
		return nil, nil
	}
	p, err := s.policies.Get(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: stored bucket policy does not parse: %v", ErrDamaged, err)
	}
	return p, nil
}
