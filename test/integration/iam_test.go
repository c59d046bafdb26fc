package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// newUser creates a user of the account c signs for, with an access key.
func (e *env) newUser(t *testing.T, c creds, name string) (creds, *iamtypes.User) {
	t.Helper()
	ic := e.iamAs(c)
	u := must[*iam.CreateUserOutput](t)(ic.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String(name)}))
	k := must[*iam.CreateAccessKeyOutput](t)(ic.CreateAccessKey(ctx(t), &iam.CreateAccessKeyInput{UserName: aws.String(name)}))
	return creds{*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, ""}, u.User
}

// putUserPolicy gives a user an inline policy.
func (e *env) putUserPolicy(t *testing.T, c creds, user, name, doc string) {
	t.Helper()
	must[*iam.PutUserPolicyOutput](t)(e.iamAs(c).PutUserPolicy(ctx(t), &iam.PutUserPolicyInput{
		UserName: aws.String(user), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))
}

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// TestIAMUserIdentity: a user made through IAM signs S3, KMS and STS requests with its key and
// is recognised as itself; an inactive or deleted key is refused by every service.
func TestIAMUserIdentity(t *testing.T) {
	e := startServer(t)
	alice, u := e.newUser(t, rootCreds, "alice")
	if !strings.HasPrefix(*u.UserId, "AIDA") || !strings.HasPrefix(alice.AccessKey, "AKIA") || len(alice.Secret) != 40 {
		t.Fatalf("user %s key %s", *u.UserId, alice.AccessKey)
	}
	root := must[*sts.GetCallerIdentityOutput](t)(e.stsAs(rootCreds).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}))
	id := must[*sts.GetCallerIdentityOutput](t)(e.stsAs(alice).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}))
	if *id.Arn != "arn:aws:iam::"+*root.Account+":user/alice" || *id.UserId != *u.UserId || *id.Account != *root.Account {
		t.Fatalf("GetCallerIdentity = %s %s %s", *id.Arn, *id.UserId, *id.Account)
	}
	if *root.Arn != "arn:aws:iam::"+*root.Account+":root" || *root.UserId != *root.Account {
		t.Fatalf("root identity = %s %s", *root.Arn, *root.UserId)
	}
	e.putUserPolicy(t, rootCreds, "alice", "all", allowAll)
	must[*s3.CreateBucketOutput](t)(e.s3As(alice).CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("alice-bucket")}))
	must[*s3.PutObjectOutput](t)(e.s3As(alice).PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("alice-bucket"), Key: aws.String("k"), Body: stringsReader("hello")}))
	must[*kms.CreateKeyOutput](t)(e.kmsAs(alice).CreateKey(ctx(t), &kms.CreateKeyInput{}))

	ic := e.iamAs(rootCreds)
	must[*iam.UpdateAccessKeyOutput](t)(ic.UpdateAccessKey(ctx(t), &iam.UpdateAccessKeyInput{UserName: aws.String("alice"),
		AccessKeyId: aws.String(alice.AccessKey), Status: iamtypes.StatusTypeInactive}))
	refused := func(t *testing.T) {
		t.Helper()
		_, err := e.s3As(alice).ListBuckets(ctx(t), &s3.ListBucketsInput{})
		wantAPIError(t, err, "InvalidAccessKeyId", http.StatusForbidden)
		_, err = e.kmsAs(alice).ListKeys(ctx(t), &kms.ListKeysInput{})
		wantAPIError(t, err, "UnrecognizedClientException", http.StatusBadRequest)
		_, err = e.stsAs(alice).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
		wantAPIError(t, err, "InvalidClientTokenId", http.StatusForbidden)
		_, err = e.iamAs(alice).ListUsers(ctx(t), &iam.ListUsersInput{})
		wantAPIError(t, err, "InvalidClientTokenId", http.StatusForbidden)
	}
	t.Run("inactive", refused)
	must[*iam.UpdateAccessKeyOutput](t)(ic.UpdateAccessKey(ctx(t), &iam.UpdateAccessKeyInput{UserName: aws.String("alice"),
		AccessKeyId: aws.String(alice.AccessKey), Status: iamtypes.StatusTypeActive}))
	must[*s3.ListBucketsOutput](t)(e.s3As(alice).ListBuckets(ctx(t), &s3.ListBucketsInput{}))
	must[*iam.DeleteAccessKeyOutput](t)(ic.DeleteAccessKey(ctx(t), &iam.DeleteAccessKeyInput{UserName: aws.String("alice"),
		AccessKeyId: aws.String(alice.AccessKey)}))
	t.Run("deleted", refused)
}

// TestIAMUserLifecycle drives users, keys and inline policies through the SDK and checks
// IAM's errors.
func TestIAMUserLifecycle(t *testing.T) {
	e := startServer(t)
	ic := e.iamAs(rootCreds)
	c := ctx(t)
	must[*iam.CreateUserOutput](t)(ic.CreateUser(c, &iam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/eng/")}))
	steps := []struct {
		name   string
		run    func() error
		code   string
		status int
	}{
		{"duplicate user", func() error {
			_, err := ic.CreateUser(c, &iam.CreateUserInput{UserName: aws.String("BOB")})
			return err
		}, "EntityAlreadyExists", 409},
		{"bad user name", func() error {
			_, err := ic.CreateUser(c, &iam.CreateUserInput{UserName: aws.String("a b")})
			return err
		}, "ValidationError", 400},
		{"no such user", func() error {
			_, err := ic.GetUser(c, &iam.GetUserInput{UserName: aws.String("nobody")})
			return err
		}, "NoSuchEntity", 404},
		{"first key", func() error {
			_, err := ic.CreateAccessKey(c, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
			return err
		}, "", 0},
		{"second key", func() error {
			_, err := ic.CreateAccessKey(c, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
			return err
		}, "", 0},
		{"third key", func() error {
			_, err := ic.CreateAccessKey(c, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
			return err
		}, "LimitExceeded", 409},
		{"malformed policy", func() error {
			_, err := ic.PutUserPolicy(c, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow"}]}`)})
			return err
		}, "MalformedPolicyDocument", 400},
		{"policy with principal", func() error {
			_, err := ic.PutUserPolicy(c, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`)})
			return err
		}, "MalformedPolicyDocument", 400},
		{"inline policy", func() error {
			_, err := ic.PutUserPolicy(c, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)})
			return err
		}, "", 0},
		{"delete user with keys", func() error {
			_, err := ic.DeleteUser(c, &iam.DeleteUserInput{UserName: aws.String("bob")})
			return err
		}, "DeleteConflict", 409},
		{"delete missing key", func() error {
			_, err := ic.DeleteAccessKey(c, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String("AKIANOTAKEY000000000")})
			return err
		}, "NoSuchEntity", 404},
		{"missing user name", func() error {
			_, err := ic.DeleteUser(c, &iam.DeleteUserInput{UserName: aws.String("")})
			return err
		}, "ValidationError", 400},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := st.run()
			if st.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAPIError(t, err, st.code, st.status)
		})
	}
	got := must[*iam.GetUserPolicyOutput](t)(ic.GetUserPolicy(c, &iam.GetUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p")}))
	if doc, _ := url.QueryUnescape(*got.PolicyDocument); doc != allowAll {
		t.Errorf("GetUserPolicy document = %s", *got.PolicyDocument)
	}
	names := must[*iam.ListUserPoliciesOutput](t)(ic.ListUserPolicies(c, &iam.ListUserPoliciesInput{UserName: aws.String("bob")}))
	if len(names.PolicyNames) != 1 || names.PolicyNames[0] != "p" {
		t.Errorf("ListUserPolicies = %v", names.PolicyNames)
	}
	users := must[*iam.ListUsersOutput](t)(ic.ListUsers(c, &iam.ListUsersInput{PathPrefix: aws.String("/eng/")}))
	if len(users.Users) != 1 || *users.Users[0].Arn != *must[*iam.GetUserOutput](t)(ic.GetUser(c, &iam.GetUserInput{UserName: aws.String("bob")})).User.Arn {
		t.Errorf("ListUsers = %+v", users.Users)
	}
	keys := must[*iam.ListAccessKeysOutput](t)(ic.ListAccessKeys(c, &iam.ListAccessKeysInput{UserName: aws.String("bob")}))
	if len(keys.AccessKeyMetadata) != 2 {
		t.Fatalf("ListAccessKeys = %+v", keys.AccessKeyMetadata)
	}
	for _, k := range keys.AccessKeyMetadata {
		must[*iam.DeleteAccessKeyOutput](t)(ic.DeleteAccessKey(c, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k.AccessKeyId}))
	}
	_, err := ic.DeleteUser(c, &iam.DeleteUserInput{UserName: aws.String("bob")})
	wantAPIError(t, err, "DeleteConflict", 409) // the inline policy remains
	must[*iam.DeleteUserPolicyOutput](t)(ic.DeleteUserPolicy(c, &iam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p")}))
	must[*iam.DeleteUserOutput](t)(ic.DeleteUser(c, &iam.DeleteUserInput{UserName: aws.String("bob")}))
}

// TestIAMAuthorization: a user without IAM permissions gets AccessDenied, one allowed by an
// identity policy gets through; an explicit deny wins.
func TestIAMAuthorization(t *testing.T) {
	e := startServer(t)
	alice, _ := e.newUser(t, rootCreds, "alice")
	ic := e.iamAs(alice)
	_, err := ic.ListUsers(ctx(t), &iam.ListUsersInput{})
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	_, err = ic.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("mallory")})
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	e.putUserPolicy(t, rootCreds, "alice", "list", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:GetUser"],"Resource":"*"}]}`)
	must[*iam.ListUsersOutput](t)(ic.ListUsers(ctx(t), &iam.ListUsersInput{}))
	me := must[*iam.GetUserOutput](t)(ic.GetUser(ctx(t), &iam.GetUserInput{}))
	if *me.User.UserName != "alice" {
		t.Errorf("GetUser without a name = %s, want the caller", *me.User.UserName)
	}
	_, err = ic.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("mallory")})
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	e.putUserPolicy(t, rootCreds, "alice", "deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:ListUsers","Resource":"*"}]}`)
	_, err = ic.ListUsers(ctx(t), &iam.ListUsersInput{})
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
}

// TestIAMManagedPolicies drives managed policies, versions and attachments.
func TestIAMManagedPolicies(t *testing.T) {
	e := startServer(t)
	ic := e.iamAs(rootCreds)
	c := ctx(t)
	read := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	p := must[*iam.CreatePolicyOutput](t)(ic.CreatePolicy(c, &iam.CreatePolicyInput{PolicyName: aws.String("Read"), PolicyDocument: aws.String(read)}))
	arn := p.Policy.Arn
	if *p.Policy.DefaultVersionId != "v1" || !strings.HasSuffix(*arn, ":policy/Read") {
		t.Fatalf("CreatePolicy = %+v", p.Policy)
	}
	_, err := ic.CreatePolicy(c, &iam.CreatePolicyInput{PolicyName: aws.String("read"), PolicyDocument: aws.String(read)})
	wantAPIError(t, err, "EntityAlreadyExists", 409)
	v2 := must[*iam.CreatePolicyVersionOutput](t)(ic.CreatePolicyVersion(c, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(allowAll), SetAsDefault: true}))
	if *v2.PolicyVersion.VersionId != "v2" || !v2.PolicyVersion.IsDefaultVersion {
		t.Errorf("CreatePolicyVersion = %+v", v2.PolicyVersion)
	}
	gv := must[*iam.GetPolicyVersionOutput](t)(ic.GetPolicyVersion(c, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v1")}))
	if doc, _ := url.QueryUnescape(*gv.PolicyVersion.Document); doc != read || gv.PolicyVersion.IsDefaultVersion {
		t.Errorf("GetPolicyVersion v1 = %+v", gv.PolicyVersion)
	}
	vs := must[*iam.ListPolicyVersionsOutput](t)(ic.ListPolicyVersions(c, &iam.ListPolicyVersionsInput{PolicyArn: arn}))
	if len(vs.Versions) != 2 || *vs.Versions[0].VersionId != "v2" {
		t.Errorf("ListPolicyVersions = %+v", vs.Versions)
	}
	for i := 3; i <= 5; i++ {
		must[*iam.CreatePolicyVersionOutput](t)(ic.CreatePolicyVersion(c, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(read)}))
	}
	_, err = ic.CreatePolicyVersion(c, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(read)})
	wantAPIError(t, err, "LimitExceeded", 409)

	alice, _ := e.newUser(t, rootCreds, "alice")
	_, err = e.iamAs(alice).ListRoles(c, &iam.ListRolesInput{})
	wantAPIError(t, err, "AccessDenied", 403)
	must[*iam.AttachUserPolicyOutput](t)(ic.AttachUserPolicy(c, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: arn}))
	must[*iam.ListRolesOutput](t)(e.iamAs(alice).ListRoles(c, &iam.ListRolesInput{})) // v2 allows everything
	att := must[*iam.ListAttachedUserPoliciesOutput](t)(ic.ListAttachedUserPolicies(c, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("alice")}))
	if len(att.AttachedPolicies) != 1 || *att.AttachedPolicies[0].PolicyArn != *arn {
		t.Errorf("ListAttachedUserPolicies = %+v", att.AttachedPolicies)
	}
	if got := must[*iam.GetPolicyOutput](t)(ic.GetPolicy(c, &iam.GetPolicyInput{PolicyArn: arn})); *got.Policy.AttachmentCount != 1 {
		t.Errorf("AttachmentCount = %d", *got.Policy.AttachmentCount)
	}
	_, err = ic.DeletePolicy(c, &iam.DeletePolicyInput{PolicyArn: arn})
	wantAPIError(t, err, "DeleteConflict", 409)
	_, err = ic.AttachUserPolicy(c, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(*arn + "x")})
	wantAPIError(t, err, "NoSuchEntity", 404)
	must[*iam.DetachUserPolicyOutput](t)(ic.DetachUserPolicy(c, &iam.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: arn}))
	_, err = e.iamAs(alice).ListRoles(c, &iam.ListRolesInput{})
	wantAPIError(t, err, "AccessDenied", 403)
	ps := must[*iam.ListPoliciesOutput](t)(ic.ListPolicies(c, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal}))
	if len(ps.Policies) != 1 {
		t.Errorf("ListPolicies = %+v", ps.Policies)
	}
	must[*iam.DeletePolicyOutput](t)(ic.DeletePolicy(c, &iam.DeletePolicyInput{PolicyArn: arn}))
	_, err = ic.GetPolicy(c, &iam.GetPolicyInput{PolicyArn: arn})
	wantAPIError(t, err, "NoSuchEntity", 404)
}
