package iamapi

import (
	"net/http"
	"strconv"

	"github.com/coffer/coffer/internal/iam"
)

// errNoBoundaries refuses permissions boundaries: Coffer does not enforce them, and a
// boundary stored but not enforced would grant more than its author meant.
var errNoBoundaries = &apiError{"UnsupportedOperation", http.StatusBadRequest, "Coffer does not support permissions boundaries."}

// refuseBoundary fails a call that sets a permissions boundary.
func refuseBoundary(c *call) error {
	if c.get("PermissionsBoundary") != "" {
		return errNoBoundaries
	}
	return nil
}

func (h *Handler) updateUser(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	_, err = h.svc.UpdateUser(c.ctx, e.Account, e.Name, c.get("NewUserName"), c.get("NewPath"))
	return nil, err
}

// updateRole serves UpdateRole and UpdateRoleDescription (which answers the role).
func (h *Handler) updateRole(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	var up iam.RoleUpdate
	if v, ok := c.form["Description"]; ok {
		up.Description = &v[0]
	} else if c.action == "UpdateRoleDescription" {
		return nil, validation("1 validation error detected: Value null at 'description' failed to satisfy constraint: Member must not be null")
	}
	if v := c.get("MaxSessionDuration"); v != "" && c.action == "UpdateRole" {
		d, err := strconv.Atoi(v)
		if err != nil {
			return nil, validation("Invalid value for MaxSessionDuration")
		}
		up.MaxSessionDuration = &d
	}
	r, err := h.svc.UpdateRole(c.ctx, e.Account, e.Name, up)
	if err != nil {
		return nil, err
	}
	if c.action == "UpdateRole" {
		return struct{}{}, nil // an empty UpdateRoleResult, which the SDKs expect
	}
	return struct {
		Role roleXML `xml:"Role"`
	}{roleOf(r, true)}, nil
}

func (h *Handler) updateAssumeRolePolicy(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	doc, err := required(c, "PolicyDocument")
	if err != nil {
		return nil, err
	}
	return nil, h.svc.UpdateAssumeRolePolicy(c.ctx, e.Account, e.Name, doc)
}

func (h *Handler) setDefaultPolicyVersion(c *call) (any, error) {
	arn, id, err := h.policyVersion(c)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.SetDefaultPolicyVersion(c.ctx, c.account(), arn, id)
}

// getAccessKeyLastUsed answers the owner of a key of the caller's account. Coffer does not
// record when a key was last used: it answers as IAM does for a key never used.
func (h *Handler) getAccessKeyLastUsed(c *call) (any, error) {
	id, err := required(c, "AccessKeyId")
	if err != nil {
		return nil, err
	}
	k, err := h.svc.AccessKey(c.ctx, c.account(), id)
	if err != nil {
		// Only a caller allowed the action on every user learns that a key does not exist.
		if aerr := h.authorize(c, c.arn("user/", "*")); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	owner := c.arn("root", "") // an account root's key
	if k.UserName != "" {
		owner = h.userARN(c, k.UserName)
	}
	if err := h.authorize(c, owner); err != nil {
		return nil, err
	}
	type lastUsed struct {
		ServiceName string `xml:"ServiceName"`
		Region      string `xml:"Region"`
	}
	return struct {
		UserName          string   `xml:"UserName,omitempty"`
		AccessKeyLastUsed lastUsed `xml:"AccessKeyLastUsed"`
	}{k.UserName, lastUsed{"N/A", "N/A"}}, nil
}

// listEntitiesForPolicy answers the users and roles a managed policy is attached to (Coffer
// has no groups).
func (h *Handler) listEntitiesForPolicy(c *call) (any, error) {
	arn, err := h.policyARN(c)
	if err != nil {
		return nil, err
	}
	filter := c.get("EntityFilter")
	switch filter {
	case "", "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
	default:
		return nil, validation("1 validation error detected: Value '" + filter + "' at 'entityFilter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]")
	}
	es, err := h.svc.ListPolicyEntities(c.ctx, c.account(), arn)
	if err != nil {
		return nil, err
	}
	type member struct {
		kind     iam.Kind
		name, id string
	}
	var ms []member
	for _, e := range es {
		if filter != "" && filter != "LocalManagedPolicy" && !(filter == "User" && e.Kind == iam.KindUser || filter == "Role" && e.Kind == iam.KindRole) {
			continue
		}
		m := member{kind: e.Kind, name: e.Name}
		if e.Kind == iam.KindRole {
			r, err := h.svc.GetRole(c.ctx, e.Account, e.Name)
			if err != nil {
				return nil, err
			}
			if !hasPrefix(r.Path, c.get("PathPrefix")) {
				continue
			}
			m.id = r.ID
		} else {
			u, err := h.svc.GetUser(c.ctx, e.Account, e.Name)
			if err != nil {
				return nil, err
			}
			if !hasPrefix(u.Path, c.get("PathPrefix")) {
				continue
			}
			m.id = u.ID
		}
		ms = append(ms, m)
	}
	if filter == "Group" || filter == "AWSManagedPolicy" {
		ms = nil
	}
	out, p, err := pageOf(c, ms, func(m member) member { return m })
	type userXML struct {
		UserName string `xml:"UserName"`
		UserID   string `xml:"UserId"`
	}
	type roleXML struct {
		RoleName string `xml:"RoleName"`
		RoleID   string `xml:"RoleId"`
	}
	var users []userXML
	var roles []roleXML
	for _, m := range out {
		if m.kind == iam.KindRole {
			roles = append(roles, roleXML{m.name, m.id})
		} else {
			users = append(users, userXML{m.name, m.id})
		}
	}
	return struct {
		PolicyGroups []struct{} `xml:"PolicyGroups>member"`
		PolicyUsers  []userXML  `xml:"PolicyUsers>member"`
		PolicyRoles  []roleXML  `xml:"PolicyRoles>member"`
		page
	}{nil, users, roles, p}, err
}
