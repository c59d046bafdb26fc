package iam

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/coffer/coffer/internal/policy"
)

// Session durations of roles, in seconds, as IAM bounds them.
const (
	DefaultMaxSessionDuration = 3600
	maxMaxSessionDuration     = 43200
)

// CreateRole creates a role of account with a trust policy.
func (s *Service) CreateRole(ctx context.Context, r Role) (Role, error) {
	path, err := checkNamePath("role", r.Name, r.Path, 64)
	if err != nil {
		return Role{}, err
	}
	r.Path = path
	if r.MaxSessionDuration == 0 {
		r.MaxSessionDuration = DefaultMaxSessionDuration
	}
	if err := checkMaxSessionDuration(r.MaxSessionDuration); err != nil {
		return Role{}, err
	}
	if r.TrustPolicy == "" {
		return Role{}, errorf(ErrValidation, "1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null")
	}
	if err := parseDocument(r.TrustPolicy, policy.TrustKind); err != nil {
		return Role{}, err
	}
	if err := checkTrustSize(r.TrustPolicy); err != nil {
		return Role{}, err
	}
	if err := checkRoleDescription(r.Description); err != nil {
		return Role{}, err
	}
	if err := checkTags(r.Tags); err != nil {
		return Role{}, err
	}
	r.ID = newID(roleIDPrefix)
	r.Created = s.now().UTC().Truncate(1e9)
	if err := s.store.CreateRole(ctx, r); err != nil {
		if errors.Is(err, ErrEntityExists) {
			return Role{}, errorf(ErrEntityExists, "Role with name "+r.Name+" already exists.")
		}
		return Role{}, err
	}
	return r, nil
}

func checkMaxSessionDuration(d int) error {
	if d < DefaultMaxSessionDuration || d > maxMaxSessionDuration {
		return errorf(ErrValidation, fmt.Sprintf("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200 and greater than or equal to 3600", d))
	}
	return nil
}

// maxRoleDescription is the longest role description IAM takes, in characters.
const maxRoleDescription = 1000

func checkRoleDescription(d string) error {
	if utf8.RuneCountInString(d) > maxRoleDescription {
		return errorf(ErrValidation, "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	return nil
}

// RoleUpdate is what UpdateRole changes: the fields given (non-nil).
type RoleUpdate struct {
	Description        *string
	MaxSessionDuration *int
}

// UpdateRole changes a role's description and longest session.
func (s *Service) UpdateRole(ctx context.Context, account, name string, up RoleUpdate) (Role, error) {
	if up.Description != nil {
		if err := checkRoleDescription(*up.Description); err != nil {
			return Role{}, err
		}
	}
	if up.MaxSessionDuration != nil {
		if err := checkMaxSessionDuration(*up.MaxSessionDuration); err != nil {
			return Role{}, err
		}
	}
	r, err := s.store.UpdateRole(ctx, account, name, func(r *Role) error {
		if up.Description != nil {
			r.Description = *up.Description
		}
		if up.MaxSessionDuration != nil {
			r.MaxSessionDuration = *up.MaxSessionDuration
		}
		return nil
	})
	return r, s.noSuchEntity(err, Entity{Kind: KindRole, Account: account, Name: name})
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, account, name, doc string) error {
	if err := parseDocument(doc, policy.TrustKind); err != nil {
		return err
	}
	if err := checkTrustSize(doc); err != nil {
		return err
	}
	_, err := s.store.UpdateRole(ctx, account, name, func(r *Role) error {
		r.TrustPolicy = doc
		return nil
	})
	return s.noSuchEntity(err, Entity{Kind: KindRole, Account: account, Name: name})
}

// GetRole returns a role of account.
func (s *Service) GetRole(ctx context.Context, account, name string) (Role, error) {
	r, err := s.store.GetRole(ctx, account, name)
	return r, s.noSuchEntity(err, Entity{Kind: KindRole, Account: account, Name: name})
}

// ListRoles returns the roles of account under pathPrefix ("" for all).
func (s *Service) ListRoles(ctx context.Context, account, pathPrefix string) ([]Role, error) {
	rs, err := s.store.ListRoles(ctx, account)
	if err != nil {
		return nil, err
	}
	out := rs[:0]
	for _, r := range rs {
		if hasPathPrefix(r.Path, pathPrefix) {
			out = append(out, r)
		}
	}
	return out, nil
}

// DeleteRole deletes a role that has no policies left.
func (s *Service) DeleteRole(ctx context.Context, account, name string) error {
	err := s.store.DeleteRole(ctx, account, name)
	e := Entity{Kind: KindRole, Account: account, Name: name}
	if errors.Is(err, ErrDeleteConflict) {
		msg := "Cannot delete entity, must detach all policies first."
		if inl, _ := s.store.ListInlinePolicies(ctx, e); len(inl) > 0 {
			msg = "Cannot delete entity, must delete policies first."
		}
		return errorf(ErrDeleteConflict, msg)
	}
	s.invalidate(ctx)
	return s.noSuchEntity(err, e)
}

// maxPolicyVersions is how many versions a managed policy keeps, as in IAM.
const maxPolicyVersions = 5

// PolicyRef is a managed policy named by its ARN.
type PolicyRef struct {
	Account string
	Path    string
	Name    string
}

// ParsePolicyARN splits arn:aws:iam::<account>:policy<path><name>.
func ParsePolicyARN(arn string) (PolicyRef, error) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	acct, res, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || !strings.HasPrefix(res, "policy/") {
		return PolicyRef{}, errorf(ErrValidation, "ARN "+arn+" is not valid.")
	}
	res = strings.TrimPrefix(res, "policy")
	i := strings.LastIndexByte(res, '/')
	ref := PolicyRef{Account: acct, Path: res[:i+1], Name: res[i+1:]}
	if !ValidAccountID(acct) && acct != "aws" {
		return PolicyRef{}, errorf(ErrValidation, "ARN "+arn+" is not valid.")
	}
	return ref, nil
}

func noSuchPolicy(arn string) error {
	return errorf(ErrNoSuchEntity, "Policy "+arn+" does not exist or is not attachable.")
}

// CreatePolicy creates a customer managed policy of account with its first version and tags
// (none: nil).
func (s *Service) CreatePolicy(ctx context.Context, account, name, path, description, doc string, tags []Tag) (ManagedPolicy, error) {
	path, err := checkNamePath("policy", name, path, 128)
	if err != nil {
		return ManagedPolicy{}, err
	}
	if err := checkTags(tags); err != nil {
		return ManagedPolicy{}, err
	}
	if err := parseIdentityDocument(doc); err != nil {
		return ManagedPolicy{}, err
	}
	if err := checkManagedSize(doc); err != nil {
		return ManagedPolicy{}, err
	}
	now := s.now().UTC().Truncate(1e9)
	p := ManagedPolicy{Account: account, Name: name, Path: path, ID: newID(policyIDPrefix), Description: description,
		DefaultVersion: "v1", Versions: []PolicyVersion{{ID: "v1", Document: doc, Created: now}}, NextVersion: 2,
		Created: now, Updated: now, Tags: tags}
	if err := s.store.CreatePolicy(ctx, p); err != nil {
		if errors.Is(err, ErrEntityExists) {
			return ManagedPolicy{}, errorf(ErrEntityExists, "A policy called "+name+" already exists. Duplicate names are not allowed.")
		}
		return ManagedPolicy{}, err
	}
	return p, nil
}

// GetPolicy returns a managed policy of account by ARN.
func (s *Service) GetPolicy(ctx context.Context, account, arn string) (ManagedPolicy, error) {
	ref, err := ParsePolicyARN(arn)
	if err != nil {
		return ManagedPolicy{}, err
	}
	if ref.Account != account {
		return ManagedPolicy{}, noSuchPolicy(arn)
	}
	p, err := s.store.GetPolicy(ctx, account, ref.Name)
	if errors.Is(err, ErrNoSuchEntity) || err == nil && p.Path != ref.Path {
		return ManagedPolicy{}, noSuchPolicy(arn)
	}
	return p, err
}

// ListPolicies returns the customer managed policies of account under pathPrefix; onlyAttached
// keeps those attached to someone.
func (s *Service) ListPolicies(ctx context.Context, account, pathPrefix string, onlyAttached bool) ([]ManagedPolicy, error) {
	ps, err := s.store.ListPolicies(ctx, account)
	if err != nil {
		return nil, err
	}
	out := ps[:0]
	for _, p := range ps {
		if hasPathPrefix(p.Path, pathPrefix) && (!onlyAttached || p.Attachments > 0) {
			out = append(out, p)
		}
	}
	return out, nil
}

// CreatePolicyVersion adds a version to a managed policy, optionally as its default.
func (s *Service) CreatePolicyVersion(ctx context.Context, account, arn, doc string, setDefault bool) (PolicyVersion, error) {
	p, err := s.GetPolicy(ctx, account, arn)
	if err != nil {
		return PolicyVersion{}, err
	}
	if err := parseIdentityDocument(doc); err != nil {
		return PolicyVersion{}, err
	}
	if err := checkManagedSize(doc); err != nil {
		return PolicyVersion{}, err
	}
	var v PolicyVersion
	_, err = s.store.UpdatePolicy(ctx, account, p.Name, func(p *ManagedPolicy) error {
		if len(p.Versions) >= maxPolicyVersions {
			return errorf(ErrLimitExceeded, "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")
		}
		v = PolicyVersion{ID: fmt.Sprintf("v%d", p.NextVersion), Document: doc, Created: s.now().UTC().Truncate(1e9)}
		p.NextVersion++
		p.Versions = append(p.Versions, v)
		p.Updated = v.Created
		if setDefault {
			p.DefaultVersion = v.ID
		}
		return nil
	})
	s.invalidate(ctx)
	return v, err
}

// SetDefaultPolicyVersion makes an existing version the default: the one in force.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, account, arn, version string) error {
	p, err := s.GetPolicy(ctx, account, arn)
	if err != nil {
		return err
	}
	_, err = s.store.UpdatePolicy(ctx, account, p.Name, func(p *ManagedPolicy) error {
		if _, ok := p.Version(version); !ok {
			return errorf(ErrNoSuchEntity, "Policy "+arn+" version "+version+" does not exist or is not attachable.")
		}
		p.DefaultVersion = version
		return nil
	})
	s.invalidate(ctx)
	return err
}

// ListPolicyEntities returns the users and roles a managed policy is attached to.
func (s *Service) ListPolicyEntities(ctx context.Context, account, arn string) ([]Entity, error) {
	p, err := s.GetPolicy(ctx, account, arn)
	if err != nil {
		return nil, err
	}
	es, err := s.store.ListPolicyEntities(ctx, account, p.Name)
	if errors.Is(err, ErrNoSuchEntity) {
		return nil, noSuchPolicy(arn)
	}
	return es, err
}

// DeletePolicyVersion deletes a version that is not the default.
func (s *Service) DeletePolicyVersion(ctx context.Context, account, arn, version string) error {
	p, err := s.GetPolicy(ctx, account, arn)
	if err != nil {
		return err
	}
	_, err = s.store.UpdatePolicy(ctx, account, p.Name, func(p *ManagedPolicy) error {
		if version == p.DefaultVersion {
			return errorf(ErrDeleteConflict, "Cannot delete the default version of a policy.")
		}
		for i, v := range p.Versions {
			if v.ID == version {
				p.Versions = append(p.Versions[:i], p.Versions[i+1:]...)
				return nil
			}
		}
		return errorf(ErrNoSuchEntity, "Policy "+arn+" version "+version+" does not exist or is not attachable.")
	})
	return err
}

// GetPolicyVersion returns a version of a managed policy.
func (s *Service) GetPolicyVersion(ctx context.Context, account, arn, version string) (PolicyVersion, bool, error) {
	p, err := s.GetPolicy(ctx, account, arn)
	if err != nil {
		return PolicyVersion{}, false, err
	}
	v, ok := p.Version(version)
	if !ok {
		return PolicyVersion{}, false, errorf(ErrNoSuchEntity, "Policy "+arn+" version "+version+" does not exist or is not attachable.")
	}
	return v, version == p.DefaultVersion, nil
}

// DeletePolicy deletes a managed policy attached to no one.
func (s *Service) DeletePolicy(ctx context.Context, account, arn string) error {
	p, err := s.GetPolicy(ctx, account, arn)
	if err != nil {
		return err
	}
	err = s.store.DeletePolicy(ctx, account, p.Name)
	if errors.Is(err, ErrDeleteConflict) {
		return errorf(ErrDeleteConflict, "Cannot delete a policy attached to entities.")
	}
	return err
}

// AttachPolicy attaches a managed policy to a user or role of the same account.
func (s *Service) AttachPolicy(ctx context.Context, e Entity, arn string) error {
	p, err := s.GetPolicy(ctx, e.Account, arn)
	if err != nil {
		return err
	}
	if err := s.checkAttachments(ctx, e, p.Name); err != nil {
		return err
	}
	err = s.store.AttachPolicy(ctx, e, p.Name)
	s.invalidate(ctx)
	return s.noSuchEntity(err, e)
}

// DetachPolicy detaches a managed policy from a user or role.
func (s *Service) DetachPolicy(ctx context.Context, e Entity, arn string) error {
	if _, err := s.store.ListAttachedPolicies(ctx, e); err != nil {
		return s.noSuchEntity(err, e)
	}
	p, err := s.GetPolicy(ctx, e.Account, arn)
	if err != nil {
		return err
	}
	err = s.store.DetachPolicy(ctx, e, p.Name)
	s.invalidate(ctx)
	if errors.Is(err, ErrNoSuchEntity) {
		return errorf(ErrNoSuchEntity, "Policy "+arn+" was not found.")
	}
	return err
}

// ListAttachedPolicies returns the managed policies attached to a user or role.
func (s *Service) ListAttachedPolicies(ctx context.Context, e Entity) ([]ManagedPolicy, error) {
	ps, err := s.store.ListAttachedPolicies(ctx, e)
	return ps, s.noSuchEntity(err, e)
}
