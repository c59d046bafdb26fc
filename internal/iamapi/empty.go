package iamapi

import (
	"encoding/xml"

	"github.com/coffer/coffer/internal/iam"
)

// emptyList serves actions on things Coffer does not keep (groups, instance profiles, SSH
// keys, MFA devices, signing certificates, service-specific credentials)
// that tools such as Terraform's aws provider call while reading or deleting users, roles and
// policies: it answers the truth, an empty list under element, for a user, role or policy that
// exists, and NoSuchEntity otherwise.
func emptyList(element string) operation {
	return func(h *Handler, c *call) (any, error) {
		if c.get("PolicyArn") != "" {
			arn, err := h.policyARN(c)
			if err != nil {
				return nil, err
			}
			if _, err := h.svc.GetPolicy(c.ctx, c.account(), arn); err != nil {
				return nil, err
			}
			return emptyResult{element}, nil
		}
		e, err := h.entity(c)
		if err != nil {
			return nil, err
		}
		if e.Kind == iam.KindRole {
			_, err = h.svc.GetRole(c.ctx, e.Account, e.Name)
		} else {
			_, err = h.svc.GetUser(c.ctx, e.Account, e.Name)
		}
		if err != nil {
			return nil, err
		}
		return emptyResult{element}, nil
	}
}

// listVirtualMFADevices answers the account's virtual MFA devices: none.
func (h *Handler) listVirtualMFADevices(c *call) (any, error) {
	if err := h.authorize(c, c.arn("mfa/", "")); err != nil {
		return nil, err
	}
	return emptyResult{"VirtualMFADevices"}, nil
}

// deleteLoginProfile answers that a user has no login profile (Coffer has no console
// passwords), or that the user does not exist.
func (h *Handler) deleteLoginProfile(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	if _, err := h.svc.GetUser(c.ctx, e.Account, e.Name); err != nil {
		return nil, err
	}
	return nil, &iam.Error{Class: iam.ErrNoSuchEntity, Message: "Login Profile for User " + e.Name + " cannot be found."}
}

// emptyResult renders <element/><IsTruncated>false</IsTruncated> inside the Result element.
type emptyResult struct{ element string }

func (r emptyResult) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if err := e.EncodeElement("", xml.StartElement{Name: xml.Name{Local: r.element}}); err != nil {
		return err
	}
	if err := e.EncodeElement(false, xml.StartElement{Name: xml.Name{Local: "IsTruncated"}}); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}
