package kms

import (
	"context"
	"slices"
	"strings"
)

const maxTags = 50

// validateTags checks new tags, merged over existing ones, against AWS's tag rules.
func validateTags(add []Tag, existing []Tag) error {
	seen := make(map[string]bool, len(add))
	for _, t := range add {
		if len(t.TagKey) < 1 || len(t.TagKey) > 128 {
			return errf(ErrTag, "Tag keys must be between 1 and 128 characters.")
		}
		if len(t.TagValue) > 256 {
			return errf(ErrTag, "Tag values must be at most 256 characters.")
		}
		if strings.HasPrefix(strings.ToLower(t.TagKey), "aws:") {
			return errf(ErrTag, "Tags beginning with aws: are reserved")
		}
		if seen[t.TagKey] {
			return errf(ErrTag, "Duplicate tag keys")
		}
		seen[t.TagKey] = true
	}
	n := len(add)
	for _, t := range existing {
		if !seen[t.TagKey] {
			n++
		}
	}
	if n > maxTags {
		return errf(ErrTag, "Too many tags")
	}
	return nil
}

// TagResource adds or replaces tags on a key.
func (s *Service) TagResource(ctx context.Context, c Caller, keyID string, tags []Tag) error {
	_, err := s.modify(ctx, c, keyID, "TagResource", opModify, func(k *Key) error {
		if err := validateTags(tags, k.Tags); err != nil {
			return err
		}
		for _, t := range tags {
			replaced := false
			for i := range k.Tags {
				if k.Tags[i].TagKey == t.TagKey {
					k.Tags[i].TagValue, replaced = t.TagValue, true
				}
			}
			if !replaced {
				k.Tags = append(k.Tags, t)
			}
		}
		return nil
	})
	return s.storeErr("tag", err)
}

// UntagResource removes tags from a key; absent keys are ignored.
func (s *Service) UntagResource(ctx context.Context, c Caller, keyID string, tagKeys []string) error {
	for _, k := range tagKeys {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return errf(ErrTag, "Tags beginning with aws: are reserved")
		}
	}
	_, err := s.modify(ctx, c, keyID, "UntagResource", opModify, func(k *Key) error {
		kept := k.Tags[:0]
		for _, t := range k.Tags {
			if !contains(tagKeys, t.TagKey) {
				kept = append(kept, t)
			}
		}
		k.Tags = kept
		return nil
	})
	return s.storeErr("untag", err)
}

// ListResourceTags lists a key's tags by tag key, so that a marker (the last tag key of a
// page) resumes in the right place whatever was tagged or untagged in between.
func (s *Service) ListResourceTags(ctx context.Context, c Caller, keyID string, p Page) (tags []Tag, next string, err error) {
	limit, err := p.limit(50)
	if err != nil {
		return nil, "", err
	}
	e, err := s.resolve(ctx, c, keyID, optsKeyOnly, askFor("ListResourceTags"))
	if err != nil {
		return nil, "", err
	}
	tags = slices.SortedFunc(slices.Values(e.key.Tags), func(a, b Tag) int { return strings.Compare(a.TagKey, b.TagKey) })
	return page(ctx, s, listTags, c.Account+"\x00"+e.key.ID, tags, func(t Tag) string { return t.TagKey }, p.Marker, limit)
}
