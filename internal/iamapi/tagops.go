package iamapi

import (
	"strconv"

	"github.com/coffer/coffer/internal/iam"
)

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func tagsXML(tags []iam.Tag) []tagXML {
	out := make([]tagXML, len(tags))
	for i, t := range tags {
		out[i] = tagXML(t)
	}
	return out
}

// tagsParam reads Tags.member.N.Key and .Value, N from 1 until neither is given.
func tagsParam(c *call) []iam.Tag {
	var tags []iam.Tag
	for i := 1; ; i++ {
		p := "Tags.member." + strconv.Itoa(i) + "."
		k, hasKey := c.form[p+"Key"]
		v, hasValue := c.form[p+"Value"]
		if !hasKey && !hasValue {
			return tags
		}
		var t iam.Tag
		if hasKey {
			t.Key = k[0]
		}
		if hasValue {
			t.Value = v[0]
		}
		tags = append(tags, t)
	}
}

// tagKeysParam reads TagKeys.member.N, which must hold at least one key.
func tagKeysParam(c *call) ([]string, error) {
	var keys []string
	for i := 1; ; i++ {
		v, ok := c.form["TagKeys.member."+strconv.Itoa(i)]
		if !ok {
			break
		}
		keys = append(keys, v[0])
	}
	if len(keys) == 0 {
		return nil, validation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	return keys, nil
}

// tagging serves TagUser, UntagUser, TagRole and UntagRole.
func (h *Handler) tagging(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	tagging := c.action == "TagUser" || c.action == "TagRole"
	var tags []iam.Tag
	var keys []string
	if tagging {
		if tags = tagsParam(c); tags == nil {
			return nil, validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
		}
	} else if keys, err = tagKeysParam(c); err != nil {
		return nil, err
	}
	switch c.action {
	case "TagUser":
		return nil, h.svc.TagUser(c.ctx, e.Account, e.Name, tags)
	case "UntagUser":
		return nil, h.svc.UntagUser(c.ctx, e.Account, e.Name, keys)
	case "TagRole":
		return nil, h.svc.TagRole(c.ctx, e.Account, e.Name, tags)
	default:
		return nil, h.svc.UntagRole(c.ctx, e.Account, e.Name, keys)
	}
}

// policyTagging serves TagPolicy and UntagPolicy.
func (h *Handler) policyTagging(c *call) (any, error) {
	arn, err := h.policyARN(c)
	if err != nil {
		return nil, err
	}
	if c.action == "TagPolicy" {
		tags := tagsParam(c)
		if tags == nil {
			return nil, validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
		}
		return nil, h.svc.TagPolicy(c.ctx, c.account(), arn, tags)
	}
	keys, err := tagKeysParam(c)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.UntagPolicy(c.ctx, c.account(), arn, keys)
}

// listTags serves ListUserTags, ListRoleTags and ListPolicyTags.
func (h *Handler) listTags(c *call) (any, error) {
	var tags []iam.Tag
	switch c.action {
	case "ListPolicyTags":
		p, err := h.policy(c)
		if err != nil {
			return nil, err
		}
		tags = p.Tags
	case "ListRoleTags":
		r, err := h.role(c)
		if err != nil {
			return nil, err
		}
		tags = r.Tags
	default:
		e, err := h.entity(c)
		if err != nil {
			return nil, err
		}
		u, err := h.svc.GetUser(c.ctx, e.Account, e.Name)
		if err != nil {
			return nil, err
		}
		tags = u.Tags
	}
	out, p, err := pageOf(c, tags, func(t iam.Tag) tagXML { return tagXML(t) })
	type members struct {
		Member []tagXML `xml:"member"`
	}
	return struct {
		Tags members `xml:"Tags"` // <Tags></Tags> when there are none, as IAM writes it
		page
	}{members{out}, p}, err
}
