package integration

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// appSession makes user alice, allowed to assume roles, and role App trusting account, and
// returns alice's credentials and a session of App she assumed.
func (e *env) appSession(t *testing.T, account string) (alice, session creds) {
	t.Helper()
	alice, _ = e.newUser(t, rootCreds, "alice")
	e.putUserPolicy(t, rootCreds, "alice", "assume", allowAssumeRole)
	role := e.createRole(t, rootCreds, "App", trustPolicy(account))
	session, _, err := e.assumeRole(t, alice, role, "sess", nil)
	if err != nil {
		t.Fatal(err)
	}
	return alice, session
}

// TestRoleSessionEndsWithRole: a role session's credentials stop working when its role is
// deleted, and a new role of the same name (with other permissions) does not revive them.
func TestRoleSessionEndsWithRole(t *testing.T) {
	e := startServer(t)
	account := e.account(t, rootCreds)
	_, sess := e.appSession(t, account)
	must[*sts.GetCallerIdentityOutput](t)(e.stsAs(sess).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}))
	must[*iam.DeleteRoleOutput](t)(e.iamAs(rootCreds).DeleteRole(ctx(t), &iam.DeleteRoleInput{RoleName: aws.String("App")}))
	_, err := e.stsAs(sess).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId", http.StatusForbidden)
	e.createRole(t, rootCreds, "App", trustPolicy(account))
	must[*iam.PutRolePolicyOutput](t)(e.iamAs(rootCreds).PutRolePolicy(ctx(t), &iam.PutRolePolicyInput{RoleName: aws.String("App"),
		PolicyName: aws.String("all"), PolicyDocument: aws.String(allowAll)}))
	cases := []struct {
		name   string
		call   func() error
		code   string
		status int
	}{
		{"STS", func() error {
			_, err := e.stsAs(sess).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
			return err
		}, "InvalidClientTokenId", http.StatusForbidden},
		{"S3", func() error {
			_, err := e.s3As(sess).ListBuckets(ctx(t), &s3.ListBucketsInput{})
			return err
		}, "InvalidToken", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, tc.call(), tc.code, tc.status) })
	}
}
