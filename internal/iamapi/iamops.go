package iamapi

import (
	"strconv"
	"strings"

	"github.com/coffer/coffer/internal/iam"
)

// operation serves one Action.
type operation func(h *Handler, c *call) (any, error)

var iamOperations = map[string]operation{
	"CreateUser":                  (*Handler).createUser,
	"GetUser":                     (*Handler).getUser,
	"ListUsers":                   (*Handler).listUsers,
	"DeleteUser":                  (*Handler).deleteUser,
	"CreateAccessKey":             (*Handler).createAccessKey,
	"ListAccessKeys":              (*Handler).listAccessKeys,
	"UpdateAccessKey":             (*Handler).updateAccessKey,
	"DeleteAccessKey":             (*Handler).deleteAccessKey,
	"PutUserPolicy":               (*Handler).putInlinePolicy,
	"GetUserPolicy":               (*Handler).getInlinePolicy,
	"ListUserPolicies":            (*Handler).listInlinePolicies,
	"DeleteUserPolicy":            (*Handler).deleteInlinePolicy,
	"PutRolePolicy":               (*Handler).putInlinePolicy,
	"GetRolePolicy":               (*Handler).getInlinePolicy,
	"ListRolePolicies":            (*Handler).listInlinePolicies,
	"DeleteRolePolicy":            (*Handler).deleteInlinePolicy,
	"CreateRole":                  (*Handler).createRole,
	"GetRole":                     (*Handler).getRole,
	"ListRoles":                   (*Handler).listRoles,
	"DeleteRole":                  (*Handler).deleteRole,
	"CreatePolicy":                (*Handler).createPolicy,
	"GetPolicy":                   (*Handler).getPolicy,
	"ListPolicies":                (*Handler).listPolicies,
	"DeletePolicy":                (*Handler).deletePolicy,
	"CreatePolicyVersion":         (*Handler).createPolicyVersion,
	"GetPolicyVersion":            (*Handler).getPolicyVersion,
	"ListPolicyVersions":          (*Handler).listPolicyVersions,
	"DeletePolicyVersion":         (*Handler).deletePolicyVersion,
	"AttachUserPolicy":            (*Handler).attachment,
	"DetachUserPolicy":            (*Handler).attachment,
	"ListAttachedUserPolicies":    (*Handler).listAttachedPolicies,
	"AttachRolePolicy":            (*Handler).attachment,
	"DetachRolePolicy":            (*Handler).attachment,
	"ListAttachedRolePolicies":    (*Handler).listAttachedPolicies,
	"GetAccountSummary":           (*Handler).getAccountSummary,
	"ListGroupsForUser":           emptyList("Groups"),
	"ListInstanceProfilesForRole": emptyList("InstanceProfiles"),
	// What Terraform's aws_iam_user with force_destroy reads and removes before DeleteUser.
	"ListSSHPublicKeys":              emptyList("SSHPublicKeys"),
	"ListMFADevices":                 emptyList("MFADevices"),
	"ListSigningCertificates":        emptyList("Certificates"),
	"ListServiceSpecificCredentials": emptyList("ServiceSpecificCredentials"),
	"ListVirtualMFADevices":          (*Handler).listVirtualMFADevices,
	"DeleteLoginProfile":             (*Handler).deleteLoginProfile,
	"TagUser":                        (*Handler).tagging,
	"UntagUser":                      (*Handler).tagging,
	"ListUserTags":                   (*Handler).listTags,
	"TagRole":                        (*Handler).tagging,
	"UntagRole":                      (*Handler).tagging,
	"ListRoleTags":                   (*Handler).listTags,
	"TagPolicy":                      (*Handler).policyTagging,
	"UntagPolicy":                    (*Handler).policyTagging,
	"ListPolicyTags":                 (*Handler).listTags,
	"UpdateUser":                     (*Handler).updateUser,
	"UpdateRole":                     (*Handler).updateRole,
	"UpdateRoleDescription":          (*Handler).updateRole,
	"UpdateAssumeRolePolicy":         (*Handler).updateAssumeRolePolicy,
	"SetDefaultPolicyVersion":        (*Handler).setDefaultPolicyVersion,
	"GetAccessKeyLastUsed":           (*Handler).getAccessKeyLastUsed,
	"ListEntitiesForPolicy":          (*Handler).listEntitiesForPolicy,
}

// account is the caller's account: every IAM action acts in it.
func (c *call) account() string { return c.caller.AccountID }

func (c *call) arn(kind, pathName string) string {
	return "arn:aws:iam::" + c.account() + ":" + kind + pathName
}

// authorize lets the account root do everything in its account and others what their
// identity policies allow: iam:<Action> on resource.
func (h *Handler) authorize(c *call, resource string) error {
	return iam.Authorize(c.caller, c.account(), "iam:"+c.action, resource, c.req.GlobalConditions())
}

// userARN is the ARN of a user of the caller's account, with its path when it exists.
func (h *Handler) userARN(c *call, name string) string {
	if u, err := h.svc.GetUser(c.ctx, c.account(), name); err == nil {
		return u.ARN()
	}
	return c.arn("user/", name)
}

func (h *Handler) roleARN(c *call, name string) string {
	if r, err := h.svc.GetRole(c.ctx, c.account(), name); err == nil {
		return r.ARN()
	}
	return c.arn("role/", name)
}

// targetUser is the user an access-key or GetUser call names: UserName, or else the caller
// itself (its user, or "" for the account root).
func (h *Handler) targetUser(c *call) (string, error) {
	if n := c.get("UserName"); n != "" {
		return n, nil
	}
	switch c.caller.Type {
	case iam.PrincipalUser:
		return c.caller.UserName, nil
	case iam.PrincipalAccount:
		return "", nil
	}
	return "", validation("Must specify userName when calling with non-User credentials")
}

// targetARN is the ARN authorized for a call on a user ("" meaning the caller).
func (h *Handler) targetARN(c *call, user string) string {
	if user == "" {
		return c.caller.ARN
	}
	return h.userARN(c, user)
}

func (h *Handler) createUser(c *call) (any, error) {
	name, err := required(c, "UserName")
	if err != nil {
		return nil, err
	}
	path := c.get("Path")
	if path == "" {
		path = "/"
	}
	if err := h.authorize(c, c.arn("user"+path, name)); err != nil {
		return nil, err
	}
	if err := refuseBoundary(c); err != nil {
		return nil, err
	}
	u, err := h.svc.CreateUser(c.ctx, c.account(), name, path, tagsParam(c))
	if err != nil {
		return nil, err
	}
	return struct {
		User userXML `xml:"User"`
	}{userWithTags(u)}, nil
}

func (h *Handler) getUser(c *call) (any, error) {
	name, err := h.targetUser(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, h.targetARN(c, name)); err != nil {
		return nil, err
	}
	type result struct {
		User userXML `xml:"User"`
	}
	if name == "" {
		return result{userXML{UserID: c.account(), Arn: c.caller.ARN, CreateDate: isoTime(c.req.Time)}}, nil
	}
	u, err := h.svc.GetUser(c.ctx, c.account(), name)
	if err != nil {
		return nil, err
	}
	return result{userWithTags(u)}, nil
}

func (h *Handler) listUsers(c *call) (any, error) {
	if err := h.authorize(c, c.arn("user/", "")); err != nil {
		return nil, err
	}
	us, err := h.svc.ListUsers(c.ctx, c.account(), c.get("PathPrefix"))
	if err != nil {
		return nil, err
	}
	out, p, err := pageOf(c, us, userOf)
	return struct {
		Users []userXML `xml:"Users>member"`
		page
	}{out, p}, err
}

func (h *Handler) deleteUser(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteUser(c.ctx, e.Account, e.Name)
}

func (h *Handler) createAccessKey(c *call) (any, error) {
	user, err := h.targetUser(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, h.targetARN(c, user)); err != nil {
		return nil, err
	}
	k, err := h.svc.CreateAccessKey(c.ctx, c.account(), user)
	if err != nil {
		return nil, err
	}
	return struct {
		AccessKey accessKeyXML `xml:"AccessKey"`
	}{accessKeyXML{UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, SecretAccessKey: k.Secret, CreateDate: isoTime(k.Created)}}, nil
}

func (h *Handler) listAccessKeys(c *call) (any, error) {
	user, err := h.targetUser(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, h.targetARN(c, user)); err != nil {
		return nil, err
	}
	ks, err := h.svc.ListAccessKeys(c.ctx, c.account(), user)
	if err != nil {
		return nil, err
	}
	out, p, err := pageOf(c, ks, func(k iam.AccessKey) accessKeyXML {
		return accessKeyXML{UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, CreateDate: isoTime(k.Created)}
	})
	return struct {
		AccessKeyMetadata []accessKeyXML `xml:"AccessKeyMetadata>member"`
		page
	}{out, p}, err
}

func (h *Handler) updateAccessKey(c *call) (any, error) {
	id, err := required(c, "AccessKeyId")
	if err != nil {
		return nil, err
	}
	status, err := required(c, "Status")
	if err != nil {
		return nil, err
	}
	user, err := h.targetUser(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, h.targetARN(c, user)); err != nil {
		return nil, err
	}
	return nil, h.svc.UpdateAccessKey(c.ctx, c.account(), user, id, status)
}

func (h *Handler) deleteAccessKey(c *call) (any, error) {
	id, err := required(c, "AccessKeyId")
	if err != nil {
		return nil, err
	}
	user, err := h.targetUser(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, h.targetARN(c, user)); err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteAccessKey(c.ctx, c.account(), user, id)
}

// entity returns the user or role an action names (UserName or RoleName), authorized.
func (h *Handler) entity(c *call) (iam.Entity, error) {
	kind, param := iam.KindUser, "UserName"
	if isRoleAction(c.action) {
		kind, param = iam.KindRole, "RoleName"
	}
	name, err := required(c, param)
	if err != nil {
		return iam.Entity{}, err
	}
	arn := h.userARN
	if kind == iam.KindRole {
		arn = h.roleARN
	}
	if err := h.authorize(c, arn(c, name)); err != nil {
		return iam.Entity{}, err
	}
	return iam.Entity{Kind: kind, Account: c.account(), Name: name}, nil
}

// isRoleAction tells the actions on a role (GetRole, PutRolePolicy, ...) from those on a user.
func isRoleAction(action string) bool { return strings.Contains(action, "Role") }

func (h *Handler) putInlinePolicy(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	name, err := required(c, "PolicyName")
	if err != nil {
		return nil, err
	}
	doc, err := required(c, "PolicyDocument")
	if err != nil {
		return nil, err
	}
	return nil, h.svc.PutInlinePolicy(c.ctx, e, name, doc)
}

func (h *Handler) getInlinePolicy(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	name, err := required(c, "PolicyName")
	if err != nil {
		return nil, err
	}
	p, err := h.svc.GetInlinePolicy(c.ctx, e, name)
	if err != nil {
		return nil, err
	}
	if e.Kind == iam.KindRole {
		return struct {
			RoleName       string `xml:"RoleName"`
			PolicyName     string `xml:"PolicyName"`
			PolicyDocument string `xml:"PolicyDocument"`
		}{e.Name, p.Name, encodeDocument(p.Document)}, nil
	}
	return struct {
		UserName       string `xml:"UserName"`
		PolicyName     string `xml:"PolicyName"`
		PolicyDocument string `xml:"PolicyDocument"`
	}{e.Name, p.Name, encodeDocument(p.Document)}, nil
}

func (h *Handler) listInlinePolicies(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	names, err := h.svc.ListInlinePolicies(c.ctx, e)
	if err != nil {
		return nil, err
	}
	out, p, err := pageOf(c, names, func(n string) string { return n })
	return struct {
		PolicyNames []string `xml:"PolicyNames>member"`
		page
	}{out, p}, err
}

func (h *Handler) deleteInlinePolicy(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	name, err := required(c, "PolicyName")
	if err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteInlinePolicy(c.ctx, e, name)
}

func (h *Handler) createRole(c *call) (any, error) {
	name, err := required(c, "RoleName")
	if err != nil {
		return nil, err
	}
	trust, err := required(c, "AssumeRolePolicyDocument")
	if err != nil {
		return nil, err
	}
	r := iam.Role{Account: c.account(), Name: name, Path: c.get("Path"), TrustPolicy: trust, Description: c.get("Description"),
		Tags: tagsParam(c)}
	if v := c.get("MaxSessionDuration"); v != "" {
		if r.MaxSessionDuration, err = strconv.Atoi(v); err != nil {
			return nil, validation("Invalid value for MaxSessionDuration")
		}
	}
	path := r.Path
	if path == "" {
		path = "/"
	}
	if err := h.authorize(c, c.arn("role"+path, name)); err != nil {
		return nil, err
	}
	if err := refuseBoundary(c); err != nil {
		return nil, err
	}
	r, err = h.svc.CreateRole(c.ctx, r)
	if err != nil {
		return nil, err
	}
	return struct {
		Role roleXML `xml:"Role"`
	}{roleOf(r, true)}, nil
}

// role returns the role RoleName names, authorized for the call.
func (h *Handler) role(c *call) (iam.Role, error) {
	e, err := h.entity(c)
	if err != nil {
		return iam.Role{}, err
	}
	return h.svc.GetRole(c.ctx, e.Account, e.Name)
}

func (h *Handler) getRole(c *call) (any, error) {
	r, err := h.role(c)
	if err != nil {
		return nil, err
	}
	return struct {
		Role roleXML `xml:"Role"`
	}{roleOf(r, true)}, nil
}

func (h *Handler) listRoles(c *call) (any, error) {
	if err := h.authorize(c, c.arn("role/", "")); err != nil {
		return nil, err
	}
	rs, err := h.svc.ListRoles(c.ctx, c.account(), c.get("PathPrefix"))
	if err != nil {
		return nil, err
	}
	out, p, err := pageOf(c, rs, func(r iam.Role) roleXML { return roleOf(r, false) })
	return struct {
		Roles []roleXML `xml:"Roles>member"`
		page
	}{out, p}, err
}

func (h *Handler) deleteRole(c *call) (any, error) {
	e, err := h.entity(c)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteRole(c.ctx, e.Account, e.Name)
}

func (h *Handler) getAccountSummary(c *call) (any, error) {
	if err := h.authorize(c, "*"); err != nil {
		return nil, err
	}
	us, err := h.svc.ListUsers(c.ctx, c.account(), "")
	if err != nil {
		return nil, err
	}
	rs, err := h.svc.ListRoles(c.ctx, c.account(), "")
	if err != nil {
		return nil, err
	}
	ps, err := h.svc.ListPolicies(c.ctx, c.account(), "", false)
	if err != nil {
		return nil, err
	}
	type entry struct {
		Key   string `xml:"key"`
		Value int    `xml:"value"`
	}
	return struct {
		SummaryMap []entry `xml:"SummaryMap>entry"`
	}{[]entry{
		{"Users", len(us)}, {"UsersQuota", 5000}, {"Roles", len(rs)}, {"RolesQuota", 1000},
		{"Policies", len(ps)}, {"PoliciesQuota", 1500}, {"AccessKeysPerUserQuota", iam.MaxAccessKeys},
		{"PolicyVersionsInUseQuota", 10000}, {"AccountMFAEnabled", 0},
	}}, nil
}
