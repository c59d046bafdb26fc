package iamapi

import (
	"slices"
	"strings"

	"github.com/coffer/coffer/internal/iam"
)

// policyARN returns the PolicyArn parameter, authorized for the call.
func (h *Handler) policyARN(c *call) (string, error) {
	arn, err := required(c, "PolicyArn")
	if err != nil {
		return "", err
	}
	if _, err := iam.ParsePolicyARN(arn); err != nil {
		return "", err
	}
	return arn, h.authorize(c, arn)
}

// policyVersion returns the PolicyArn (authorized) and VersionId parameters.
func (h *Handler) policyVersion(c *call) (arn, id string, err error) {
	if arn, err = h.policyARN(c); err != nil {
		return "", "", err
	}
	id, err = required(c, "VersionId")
	return arn, id, err
}

// policy returns the managed policy PolicyArn names, authorized for the call.
func (h *Handler) policy(c *call) (iam.ManagedPolicy, error) {
	arn, err := h.policyARN(c)
	if err != nil {
		return iam.ManagedPolicy{}, err
	}
	return h.svc.GetPolicy(c.ctx, c.account(), arn)
}

func (h *Handler) createPolicy(c *call) (any, error) {
	name, err := required(c, "PolicyName")
	if err != nil {
		return nil, err
	}
	doc, err := required(c, "PolicyDocument")
	if err != nil {
		return nil, err
	}
	path := c.get("Path")
	if path == "" {
		path = "/"
	}
	if err := h.authorize(c, c.arn("policy"+path, name)); err != nil {
		return nil, err
	}
	p, err := h.svc.CreatePolicy(c.ctx, c.account(), name, path, c.get("Description"), doc, tagsParam(c))
	if err != nil {
		return nil, err
	}
	return struct {
		Policy policyXML `xml:"Policy"`
	}{policyWithTags(p)}, nil
}

func (h *Handler) getPolicy(c *call) (any, error) {
	p, err := h.policy(c)
	if err != nil {
		return nil, err
	}
	return struct {
		Policy policyXML `xml:"Policy"`
	}{policyWithTags(p)}, nil
}

func (h *Handler) listPolicies(c *call) (any, error) {
	if err := h.authorize(c, c.arn("policy/", "")); err != nil {
		return nil, err
	}
	var ps []iam.ManagedPolicy
	if scope := c.get("Scope"); scope != "AWS" {
		var err error
		if ps, err = h.svc.ListPolicies(c.ctx, c.account(), c.get("PathPrefix"), c.get("OnlyAttached") == "true"); err != nil {
			return nil, err
		}
	}
	out, p, err := pageOf(c, ps, policyOf)
	return struct {
		Policies []policyXML `xml:"Policies>member"`
		page
	}{out, p}, err
}

func (h *Handler) deletePolicy(c *call) (any, error) {
	arn, err := h.policyARN(c)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.DeletePolicy(c.ctx, c.account(), arn)
}

func (h *Handler) createPolicyVersion(c *call) (any, error) {
	arn, err := h.policyARN(c)
	if err != nil {
		return nil, err
	}
	doc, err := required(c, "PolicyDocument")
	if err != nil {
		return nil, err
	}
	setDefault := c.get("SetAsDefault") == "true"
	v, err := h.svc.CreatePolicyVersion(c.ctx, c.account(), arn, doc, setDefault)
	if err != nil {
		return nil, err
	}
	return struct {
		PolicyVersion policyVersionXML `xml:"PolicyVersion"`
	}{policyVersionXML{VersionID: v.ID, IsDefaultVersion: setDefault, CreateDate: isoTime(v.Created)}}, nil
}

func (h *Handler) getPolicyVersion(c *call) (any, error) {
	arn, id, err := h.policyVersion(c)
	if err != nil {
		return nil, err
	}
	v, isDefault, err := h.svc.GetPolicyVersion(c.ctx, c.account(), arn, id)
	if err != nil {
		return nil, err
	}
	return struct {
		PolicyVersion policyVersionXML `xml:"PolicyVersion"`
	}{policyVersionXML{Document: encodeDocument(v.Document), VersionID: v.ID, IsDefaultVersion: isDefault, CreateDate: isoTime(v.Created)}}, nil
}

func (h *Handler) listPolicyVersions(c *call) (any, error) {
	p, err := h.policy(c)
	if err != nil {
		return nil, err
	}
	newestFirst := slices.Clone(p.Versions) // as IAM lists them
	slices.Reverse(newestFirst)
	out, pg, err := pageOf(c, newestFirst, func(v iam.PolicyVersion) policyVersionXML {
		return policyVersionXML{VersionID: v.ID, IsDefaultVersion: v.ID == p.DefaultVersion, CreateDate: isoTime(v.Created)}
	})
	return struct {
		Versions []policyVersionXML `xml:"Versions>member"`
		page
	}{out, pg}, err
}

func (h *Handler) deletePolicyVersion(c *call) (any, error) {
	arn, id, err := h.policyVersion(c)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.DeletePolicyVersion(c.ctx, c.account(), arn, id)
}

// attachment serves Attach and Detach User and Role Policy.
func (h *Handler) attachment(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	arn, err := required(c, "PolicyArn")
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(c.action, "Attach") {
		return nil, h.svc.AttachPolicy(c.ctx, e, arn)
	}
	return nil, h.svc.DetachPolicy(c.ctx, e, arn)
}

func (h *Handler) listAttachedPolicies(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	ps, err := h.svc.ListAttachedPolicies(c.ctx, e)
	if err != nil {
		return nil, err
	}
	kept := ps[:0]
	for _, mp := range ps {
		if hasPrefix(mp.Path, c.get("PathPrefix")) {
			kept = append(kept, mp)
		}
	}
	out, p, err := pageOf(c, kept, func(mp iam.ManagedPolicy) attachedPolicyXML {
		return attachedPolicyXML{PolicyName: mp.Name, PolicyArn: mp.ARN()}
	})
	return struct {
		AttachedPolicies []attachedPolicyXML `xml:"AttachedPolicies>member"`
		page
	}{out, p}, err
}

func hasPrefix(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }
