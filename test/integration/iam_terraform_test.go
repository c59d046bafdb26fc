package integration

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestIAMTerraformUpdates drives the calls Terraform's aws provider makes to update users,
// roles, policies and access keys in place (aws_iam_user path, aws_iam_role description,
// max_session_duration and assume_role_policy, aws_iam_policy's new default version,
// aws_iam_access_key import) and the errors of each.
func TestIAMTerraformUpdates(t *testing.T) {
	e := startServer(t)
	ic := e.iamAs(rootCreds)
	c := ctx(t)
	alice, _ := e.newUser(t, rootCreds, "alice")
	e.putUserPolicy(t, rootCreds, "alice", "all", allowAll)
	account := *must[*sts.GetCallerIdentityOutput](t)(e.stsAs(rootCreds).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})).Account
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`
	onlyEC2 := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role := must[*iam.CreateRoleOutput](t)(ic.CreateRole(c, &iam.CreateRoleInput{RoleName: aws.String("R"), AssumeRolePolicyDocument: aws.String(trust)}))
	roleARN := *role.Role.Arn
	pol := must[*iam.CreatePolicyOutput](t)(ic.CreatePolicy(c, &iam.CreatePolicyInput{PolicyName: aws.String("P"), PolicyDocument: aws.String(allowAll)}))
	policyARN := pol.Policy.Arn
	v2 := must[*iam.CreatePolicyVersionOutput](t)(ic.CreatePolicyVersion(c, &iam.CreatePolicyVersionInput{PolicyArn: policyARN, PolicyDocument: aws.String(allowAll)}))
	keys := must[*iam.ListAccessKeysOutput](t)(ic.ListAccessKeys(c, &iam.ListAccessKeysInput{UserName: aws.String("alice")}))

	steps := []struct {
		name   string
		run    func(t *testing.T) error
		code   string
		status int
	}{
		{"UpdateUser path", func(t *testing.T) error {
			if _, err := ic.UpdateUser(c, &iam.UpdateUserInput{UserName: aws.String("alice"), NewPath: aws.String("/eng/")}); err != nil {
				return err
			}
			u := must[*iam.GetUserOutput](t)(ic.GetUser(c, &iam.GetUserInput{UserName: aws.String("alice")}))
			if *u.User.Path != "/eng/" || *u.User.Arn != "arn:aws:iam::"+account+":user/eng/alice" {
				t.Errorf("user after UpdateUser = %s %s", *u.User.Path, *u.User.Arn)
			}
			id := must[*sts.GetCallerIdentityOutput](t)(e.stsAs(alice).GetCallerIdentity(c, &sts.GetCallerIdentityInput{}))
			if *id.Arn != *u.User.Arn {
				t.Errorf("the user's key signs as %s, want %s", *id.Arn, *u.User.Arn)
			}
			return nil
		}, "", 0},
		{"UpdateUser bad path", func(t *testing.T) error {
			_, err := ic.UpdateUser(c, &iam.UpdateUserInput{UserName: aws.String("alice"), NewPath: aws.String("eng")})
			return err
		}, "ValidationError", 400},
		{"UpdateUser rename", func(t *testing.T) error {
			_, err := ic.UpdateUser(c, &iam.UpdateUserInput{UserName: aws.String("alice"), NewUserName: aws.String("alicia")})
			return err
		}, "UnsupportedOperation", 400},
		{"UpdateUser missing", func(t *testing.T) error {
			_, err := ic.UpdateUser(c, &iam.UpdateUserInput{UserName: aws.String("nobody"), NewPath: aws.String("/")})
			return err
		}, "NoSuchEntity", 404},
		{"UpdateRole", func(t *testing.T) error {
			if _, err := ic.UpdateRole(c, &iam.UpdateRoleInput{RoleName: aws.String("R"), Description: aws.String("reads"), MaxSessionDuration: aws.Int32(7200)}); err != nil {
				return err
			}
			r := must[*iam.GetRoleOutput](t)(ic.GetRole(c, &iam.GetRoleInput{RoleName: aws.String("R")})).Role
			if aws.ToString(r.Description) != "reads" || aws.ToInt32(r.MaxSessionDuration) != 7200 {
				t.Errorf("role after UpdateRole = %q %d", aws.ToString(r.Description), aws.ToInt32(r.MaxSessionDuration))
			}
			_, _, err := e.assumeRole(t, alice, roleARN, "long", func(in *sts.AssumeRoleInput) { in.DurationSeconds = aws.Int32(7200) })
			return err
		}, "", 0},
		{"UpdateRole duration too long", func(t *testing.T) error {
			_, err := ic.UpdateRole(c, &iam.UpdateRoleInput{RoleName: aws.String("R"), MaxSessionDuration: aws.Int32(43201)})
			return err
		}, "ValidationError", 400},
		{"UpdateRoleDescription", func(t *testing.T) error {
			out, err := ic.UpdateRoleDescription(c, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("R"), Description: aws.String("")})
			if err == nil && (aws.ToString(out.Role.Description) != "" || aws.ToInt32(out.Role.MaxSessionDuration) != 7200) {
				t.Errorf("UpdateRoleDescription answered %+v", out.Role)
			}
			return err
		}, "", 0},
		{"UpdateRole missing", func(t *testing.T) error {
			_, err := ic.UpdateRole(c, &iam.UpdateRoleInput{RoleName: aws.String("nobody"), Description: aws.String("x")})
			return err
		}, "NoSuchEntity", 404},
		{"UpdateAssumeRolePolicy", func(t *testing.T) error {
			if _, err := ic.UpdateAssumeRolePolicy(c, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("R"), PolicyDocument: aws.String(onlyEC2)}); err != nil {
				return err
			}
			r := must[*iam.GetRoleOutput](t)(ic.GetRole(c, &iam.GetRoleInput{RoleName: aws.String("R")})).Role
			if doc, _ := url.QueryUnescape(*r.AssumeRolePolicyDocument); doc != onlyEC2 {
				t.Errorf("trust policy = %s", doc)
			}
			_, _, err := e.assumeRole(t, alice, roleARN, "after", nil)
			wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
			return nil
		}, "", 0},
		{"UpdateAssumeRolePolicy malformed", func(t *testing.T) error {
			_, err := ic.UpdateAssumeRolePolicy(c, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("R"), PolicyDocument: aws.String(allowAll)})
			return err
		}, "MalformedPolicyDocument", 400},
		{"SetDefaultPolicyVersion", func(t *testing.T) error {
			if _, err := ic.SetDefaultPolicyVersion(c, &iam.SetDefaultPolicyVersionInput{PolicyArn: policyARN, VersionId: v2.PolicyVersion.VersionId}); err != nil {
				return err
			}
			p := must[*iam.GetPolicyOutput](t)(ic.GetPolicy(c, &iam.GetPolicyInput{PolicyArn: policyARN})).Policy
			if *p.DefaultVersionId != "v2" {
				t.Errorf("default version = %s", *p.DefaultVersionId)
			}
			_, err := ic.DeletePolicyVersion(c, &iam.DeletePolicyVersionInput{PolicyArn: policyARN, VersionId: aws.String("v2")})
			wantAPIError(t, err, "DeleteConflict", 409)
			_, err = ic.DeletePolicyVersion(c, &iam.DeletePolicyVersionInput{PolicyArn: policyARN, VersionId: aws.String("v1")})
			return err
		}, "", 0},
		{"SetDefaultPolicyVersion missing version", func(t *testing.T) error {
			_, err := ic.SetDefaultPolicyVersion(c, &iam.SetDefaultPolicyVersionInput{PolicyArn: policyARN, VersionId: aws.String("v1")})
			return err
		}, "NoSuchEntity", 404},
		{"GetAccessKeyLastUsed", func(t *testing.T) error {
			out, err := ic.GetAccessKeyLastUsed(c, &iam.GetAccessKeyLastUsedInput{AccessKeyId: keys.AccessKeyMetadata[0].AccessKeyId})
			if err == nil && (aws.ToString(out.UserName) != "alice" || aws.ToString(out.AccessKeyLastUsed.Region) != "N/A") {
				t.Errorf("GetAccessKeyLastUsed = %s %+v", aws.ToString(out.UserName), out.AccessKeyLastUsed)
			}
			return err
		}, "", 0},
		{"GetAccessKeyLastUsed missing", func(t *testing.T) error {
			_, err := ic.GetAccessKeyLastUsed(c, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIANOTAKEY000000000")})
			return err
		}, "NoSuchEntity", 404},
		{"CreateUser with a permissions boundary", func(t *testing.T) error {
			_, err := ic.CreateUser(c, &iam.CreateUserInput{UserName: aws.String("bounded"), PermissionsBoundary: policyARN})
			return err
		}, "UnsupportedOperation", 400},
		{"CreateRole with a permissions boundary", func(t *testing.T) error {
			_, err := ic.CreateRole(c, &iam.CreateRoleInput{RoleName: aws.String("bounded"), AssumeRolePolicyDocument: aws.String(trust), PermissionsBoundary: policyARN})
			return err
		}, "UnsupportedOperation", 400},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := st.run(t)
			if st.code != "" {
				wantAPIError(t, err, st.code, st.status)
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, name := range []string{"bounded"} { // refused creates made nothing
		_, err := ic.GetUser(c, &iam.GetUserInput{UserName: aws.String(name)})
		wantAPIError(t, err, "NoSuchEntity", 404)
		_, err = ic.GetRole(c, &iam.GetRoleInput{RoleName: aws.String(name)})
		wantAPIError(t, err, "NoSuchEntity", 404)
	}
}

// TestIAMListEntitiesForPolicy: the users and roles a policy is attached to, filtered by kind
// and path, as Terraform's aws_iam_policy_attachment reads them.
func TestIAMListEntitiesForPolicy(t *testing.T) {
	e := startServer(t)
	ic := e.iamAs(rootCreds)
	c := ctx(t)
	arn := must[*iam.CreatePolicyOutput](t)(ic.CreatePolicy(c, &iam.CreatePolicyInput{PolicyName: aws.String("P"), PolicyDocument: aws.String(allowAll)})).Policy.Arn
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
	ids := map[string]string{}
	for _, u := range []struct{ name, path string }{{"bob", "/"}, {"amy", "/eng/"}} {
		out := must[*iam.CreateUserOutput](t)(ic.CreateUser(c, &iam.CreateUserInput{UserName: aws.String(u.name), Path: aws.String(u.path)}))
		ids[u.name] = *out.User.UserId
		must[*iam.AttachUserPolicyOutput](t)(ic.AttachUserPolicy(c, &iam.AttachUserPolicyInput{UserName: aws.String(u.name), PolicyArn: arn}))
	}
	r := must[*iam.CreateRoleOutput](t)(ic.CreateRole(c, &iam.CreateRoleInput{RoleName: aws.String("Admin"), AssumeRolePolicyDocument: aws.String(trust)}))
	must[*iam.AttachRolePolicyOutput](t)(ic.AttachRolePolicy(c, &iam.AttachRolePolicyInput{RoleName: aws.String("Admin"), PolicyArn: arn}))
	must[*iam.CreateUserOutput](t)(ic.CreateUser(c, &iam.CreateUserInput{UserName: aws.String("unattached")}))

	names := func(out *iam.ListEntitiesForPolicyOutput) []string {
		var s []string
		for _, u := range out.PolicyUsers {
			if *u.UserId != ids[*u.UserName] {
				t.Errorf("user %s id %s, want %s", *u.UserName, *u.UserId, ids[*u.UserName])
			}
			s = append(s, "user/"+*u.UserName)
		}
		for _, r2 := range out.PolicyRoles {
			if *r2.RoleId != *r.Role.RoleId {
				t.Errorf("role id %s", *r2.RoleId)
			}
			s = append(s, "role/"+*r2.RoleName)
		}
		if len(out.PolicyGroups) != 0 {
			t.Errorf("groups %+v", out.PolicyGroups)
		}
		return s
	}
	cases := []struct {
		name   string
		in     iam.ListEntitiesForPolicyInput
		want   []string
		code   string
		status int
	}{
		{"all", iam.ListEntitiesForPolicyInput{}, []string{"user/amy", "user/bob", "role/Admin"}, "", 0},
		{"users", iam.ListEntitiesForPolicyInput{EntityFilter: iamtypes.EntityTypeUser}, []string{"user/amy", "user/bob"}, "", 0},
		{"roles", iam.ListEntitiesForPolicyInput{EntityFilter: iamtypes.EntityTypeRole}, []string{"role/Admin"}, "", 0},
		{"groups", iam.ListEntitiesForPolicyInput{EntityFilter: iamtypes.EntityTypeGroup}, nil, "", 0},
		{"path", iam.ListEntitiesForPolicyInput{PathPrefix: aws.String("/eng/")}, []string{"user/amy"}, "", 0},
		{"bad filter", iam.ListEntitiesForPolicyInput{EntityFilter: "Robot"}, nil, "ValidationError", 400},
		{"no such policy", iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(*arn + "x")}, nil, "NoSuchEntity", 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.PolicyArn == nil {
				in.PolicyArn = arn
			}
			out, err := ic.ListEntitiesForPolicy(c, &in)
			if tc.code != "" {
				wantAPIError(t, err, tc.code, tc.status)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(out); !equalStrings(got, tc.want) {
				t.Errorf("entities = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestIAMTerraformDestroy: the calls Terraform's aws provider makes to destroy a user with
// force_destroy and a role with force_detach_policies all answer as IAM does for a user or
// role without groups, SSH keys, MFA devices, login profile, certificates or instance
// profiles, and the deletes then succeed.
func TestIAMTerraformDestroy(t *testing.T) {
	e := startServer(t)
	ic := e.iamAs(rootCreds)
	c := ctx(t)
	e.newUser(t, rootCreds, "doomed")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
	must[*iam.CreateRoleOutput](t)(ic.CreateRole(c, &iam.CreateRoleInput{RoleName: aws.String("doomed"), AssumeRolePolicyDocument: aws.String(trust)}))
	u := aws.String("doomed")
	steps := []struct {
		name   string
		run    func() error
		code   string
		status int
	}{
		{"ListGroupsForUser", func() error { _, err := ic.ListGroupsForUser(c, &iam.ListGroupsForUserInput{UserName: u}); return err }, "", 0},
		{"ListSSHPublicKeys", func() error { _, err := ic.ListSSHPublicKeys(c, &iam.ListSSHPublicKeysInput{UserName: u}); return err }, "", 0},
		{"ListVirtualMFADevices", func() error {
			_, err := ic.ListVirtualMFADevices(c, &iam.ListVirtualMFADevicesInput{AssignmentStatus: iamtypes.AssignmentStatusTypeAssigned})
			return err
		}, "", 0},
		{"ListMFADevices", func() error { _, err := ic.ListMFADevices(c, &iam.ListMFADevicesInput{UserName: u}); return err }, "", 0},
		{"DeleteLoginProfile", func() error {
			_, err := ic.DeleteLoginProfile(c, &iam.DeleteLoginProfileInput{UserName: u})
			return err
		}, "NoSuchEntity", 404},
		{"ListSigningCertificates", func() error {
			_, err := ic.ListSigningCertificates(c, &iam.ListSigningCertificatesInput{UserName: u})
			return err
		}, "", 0},
		{"ListServiceSpecificCredentials", func() error {
			_, err := ic.ListServiceSpecificCredentials(c, &iam.ListServiceSpecificCredentialsInput{UserName: u})
			return err
		}, "", 0},
		{"ListSSHPublicKeys of a missing user", func() error {
			_, err := ic.ListSSHPublicKeys(c, &iam.ListSSHPublicKeysInput{UserName: aws.String("nobody")})
			return err
		}, "NoSuchEntity", 404},
		{"DeleteAccessKeys", func() error {
			keys, err := ic.ListAccessKeys(c, &iam.ListAccessKeysInput{UserName: u})
			if err != nil {
				return err
			}
			for _, k := range keys.AccessKeyMetadata {
				if _, err := ic.DeleteAccessKey(c, &iam.DeleteAccessKeyInput{UserName: u, AccessKeyId: k.AccessKeyId}); err != nil {
					return err
				}
			}
			return nil
		}, "", 0},
		{"DeleteUser", func() error { _, err := ic.DeleteUser(c, &iam.DeleteUserInput{UserName: u}); return err }, "", 0},
		{"ListInstanceProfilesForRole", func() error {
			_, err := ic.ListInstanceProfilesForRole(c, &iam.ListInstanceProfilesForRoleInput{RoleName: u})
			return err
		}, "", 0},
		{"ListRolePolicies", func() error { _, err := ic.ListRolePolicies(c, &iam.ListRolePoliciesInput{RoleName: u}); return err }, "", 0},
		{"ListAttachedRolePolicies", func() error {
			_, err := ic.ListAttachedRolePolicies(c, &iam.ListAttachedRolePoliciesInput{RoleName: u})
			return err
		}, "", 0},
		{"DeleteRole", func() error { _, err := ic.DeleteRole(c, &iam.DeleteRoleInput{RoleName: u}); return err }, "", 0},
		{"DeleteUser again", func() error { _, err := ic.DeleteUser(c, &iam.DeleteUserInput{UserName: u}); return err }, "NoSuchEntity", 404},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := st.run()
			if st.code != "" {
				wantAPIError(t, err, st.code, st.status)
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestIAMGetAccessKeyLastUsedAuthorization: a user without iam:GetAccessKeyLastUsed learns
// nothing, not even whether a key exists; one allowed on its own user sees its own key.
func TestIAMGetAccessKeyLastUsedAuthorization(t *testing.T) {
	e := startServer(t)
	alice, _ := e.newUser(t, rootCreds, "alice")
	bob, _ := e.newUser(t, rootCreds, "bob")
	ic := e.iamAs(alice)
	cases := []struct {
		name   string
		key    string
		code   string
		status int
	}{
		{"own key, no permission", alice.AccessKey, "AccessDenied", 403},
		{"missing key, no permission", "AKIANOTAKEY000000000", "AccessDenied", 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ic.GetAccessKeyLastUsed(ctx(t), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(tc.key)})
			wantAPIError(t, err, tc.code, tc.status)
		})
	}
	e.putUserPolicy(t, rootCreds, "alice", "own", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetAccessKeyLastUsed","Resource":"arn:aws:iam::*:user/alice"}]}`)
	out := must[*iam.GetAccessKeyLastUsedOutput](t)(ic.GetAccessKeyLastUsed(ctx(t), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(alice.AccessKey)}))
	if aws.ToString(out.UserName) != "alice" {
		t.Errorf("UserName = %s", aws.ToString(out.UserName))
	}
	_, err := ic.GetAccessKeyLastUsed(ctx(t), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(bob.AccessKey)})
	wantAPIError(t, err, "AccessDenied", 403)
	_, err = ic.GetAccessKeyLastUsed(ctx(t), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(testAccessKey)})
	wantAPIError(t, err, "AccessDenied", 403) // the root's key (from the configuration, not the store)
	rootKey := must[*iam.CreateAccessKeyOutput](t)(e.iamAs(rootCreds).CreateAccessKey(ctx(t), &iam.CreateAccessKeyInput{})).AccessKey.AccessKeyId
	_, err = ic.GetAccessKeyLastUsed(ctx(t), &iam.GetAccessKeyLastUsedInput{AccessKeyId: rootKey})
	wantAPIError(t, err, "AccessDenied", 403) // a stored root key is the root's, not alice's
	own := must[*iam.GetAccessKeyLastUsedOutput](t)(e.iamAs(rootCreds).GetAccessKeyLastUsed(ctx(t), &iam.GetAccessKeyLastUsedInput{AccessKeyId: rootKey}))
	if own.UserName != nil {
		t.Errorf("root key's UserName = %s", *own.UserName)
	}
	_, err = ic.GetAccessKeyLastUsed(ctx(t), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIANOTAKEY000000000")})
	wantAPIError(t, err, "AccessDenied", 403)
}
