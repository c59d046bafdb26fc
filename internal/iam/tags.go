package iam

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tag is a key and value attached to a user, role or managed policy. IAM compares keys
// ignoring case (Department and department are the same tag) and keeps the spelling given.
type Tag struct {
	Key   string
	Value string
}

// IAM's tag limits.
const (
	MaxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// checkTags validates the tags of one request as IAM does: the model's constraints first
// (ValidationError), then the service's rules (InvalidInput).
func checkTags(tags []Tag) error {
	if len(tags) > MaxTags {
		return errorf(ErrValidation, fmt.Sprintf("1 validation error detected: Value '%d' at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", len(tags), MaxTags))
	}
	for i, t := range tags {
		at := fmt.Sprintf("'tags.%d.member.", i+1)
		switch n := utf8.RuneCountInString(t.Key); {
		case n < 1 || n > maxTagKeyLen:
			return errorf(ErrValidation, "1 validation error detected: Value at "+at+"key' failed to satisfy constraint: Member must have length less than or equal to 128 and greater than or equal to 1")
		case !validTagText(t.Key):
			return errorf(ErrValidation, "1 validation error detected: Value at "+at+"key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+")
		}
		switch {
		case utf8.RuneCountInString(t.Value) > maxTagValueLen:
			return errorf(ErrValidation, "1 validation error detected: Value at "+at+"value' failed to satisfy constraint: Member must have length less than or equal to 256")
		case !validTagText(t.Value):
			return errorf(ErrValidation, "1 validation error detected: Value at "+at+"value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*")
		}
	}
	for i, t := range tags {
		if len(t.Key) >= 4 && strings.EqualFold(t.Key[:4], "aws:") {
			return errorf(ErrInvalidInput, "User-defined tag keys can't start with 'aws:', as this prefix is reserved for system tags.")
		}
		for _, u := range tags[:i] {
			if strings.EqualFold(t.Key, u.Key) {
				return errorf(ErrInvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
			}
		}
	}
	return nil
}

// validTagText reports whether s matches [\p{L}\p{Z}\p{N}_.:/=+\-@]*.
func validTagText(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.In(r, unicode.Z, unicode.N) && !strings.ContainsRune("_.:/=+-@", r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// mergeTags adds tags to have, replacing those with the same key (ignoring case), and fails
// with LimitExceeded if the result holds more than MaxTags.
func mergeTags(have, tags []Tag) ([]Tag, error) {
	out := slices.Clone(have)
	for _, t := range tags {
		i := slices.IndexFunc(out, func(h Tag) bool { return strings.EqualFold(h.Key, t.Key) })
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return nil, errorf(ErrLimitExceeded, fmt.Sprintf("The number of tags has reached the maximum limit of %d.", MaxTags))
	}
	return out, nil
}

// removeTags drops the tags whose keys are listed (ignoring case); unknown keys are no error.
func removeTags(have []Tag, keys []string) ([]Tag, error) {
	if len(keys) > MaxTags {
		return nil, errorf(ErrValidation, fmt.Sprintf("1 validation error detected: Value '%d' at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to %d", len(keys), MaxTags))
	}
	for i, k := range keys {
		if n := utf8.RuneCountInString(k); n < 1 || n > maxTagKeyLen || !validTagText(k) {
			return nil, errorf(ErrValidation, fmt.Sprintf("1 validation error detected: Value at 'tagKeys.%d.member' failed to satisfy constraint: Member must have length less than or equal to 128 and greater than or equal to 1 and satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", i+1))
		}
	}
	return slices.DeleteFunc(slices.Clone(have), func(t Tag) bool {
		return slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, t.Key) })
	}), nil
}

// TagUser adds or replaces tags of a user.
func (s *Service) TagUser(ctx context.Context, account, name string, tags []Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	_, err := s.store.UpdateUser(ctx, account, name, func(u *User) (err error) {
		u.Tags, err = mergeTags(u.Tags, tags)
		return err
	})
	return noSuchUser(err, name)
}

// UntagUser removes tags of a user by key.
func (s *Service) UntagUser(ctx context.Context, account, name string, keys []string) error {
	_, err := s.store.UpdateUser(ctx, account, name, func(u *User) (err error) {
		u.Tags, err = removeTags(u.Tags, keys)
		return err
	})
	return noSuchUser(err, name)
}

// TagRole adds or replaces tags of a role.
func (s *Service) TagRole(ctx context.Context, account, name string, tags []Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	_, err := s.store.UpdateRole(ctx, account, name, func(r *Role) (err error) {
		r.Tags, err = mergeTags(r.Tags, tags)
		return err
	})
	return s.noSuchEntity(err, Entity{Kind: KindRole, Account: account, Name: name})
}

// UntagRole removes tags of a role by key.
func (s *Service) UntagRole(ctx context.Context, account, name string, keys []string) error {
	_, err := s.store.UpdateRole(ctx, account, name, func(r *Role) (err error) {
		r.Tags, err = removeTags(r.Tags, keys)
		return err
	})
	return s.noSuchEntity(err, Entity{Kind: KindRole, Account: account, Name: name})
}

// TagPolicy adds or replaces tags of a managed policy named by its ARN.
func (s *Service) TagPolicy(ctx context.Context, account, arn string, tags []Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	return s.updatePolicyTags(ctx, account, arn, func(p *ManagedPolicy) (err error) {
		p.Tags, err = mergeTags(p.Tags, tags)
		return err
	})
}

// UntagPolicy removes tags of a managed policy by key.
func (s *Service) UntagPolicy(ctx context.Context, account, arn string, keys []string) error {
	return s.updatePolicyTags(ctx, account, arn, func(p *ManagedPolicy) (err error) {
		p.Tags, err = removeTags(p.Tags, keys)
		return err
	})
}

func (s *Service) updatePolicyTags(ctx context.Context, account, arn string, fn func(*ManagedPolicy) error) error {
	p, err := s.GetPolicy(ctx, account, arn)
	if err != nil {
		return err
	}
	_, err = s.store.UpdatePolicy(ctx, account, p.Name, fn)
	return err
}
