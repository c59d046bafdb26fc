package integration

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// queryCall sends a Query protocol request (form body) signed by the root for service and
// region, and returns the status and body.
func (e *env) queryCall(t *testing.T, service, region, form string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}
	if err := v4.NewSigner().SignHTTP(ctx(t), creds, req, hexSHA256([]byte(form)), service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestIAMWireShapes checks the XML of IAM and STS answers and errors as AWS writes them: the
// service's namespace, Result and ResponseMetadata, ErrorResponse with Type, Code and Message,
// URL-encoded policy documents, and IAM's global signing region.
func TestIAMWireShapes(t *testing.T) {
	e := startServerIn(t, t.TempDir(), "eu-west-1")
	const (
		iamNS = `xmlns="https://iam.amazonaws.com/doc/2010-05-08/"`
		stsNS = `xmlns="https://sts.amazonaws.com/doc/2011-06-15/"`
	)
	cases := []struct {
		name, service, region, form string
		status                      int
		want                        []string
	}{
		{"create user", "iam", "us-east-1", "Action=CreateUser&Version=2010-05-08&UserName=wire&Path=%2Fw%2F", 200,
			[]string{`<?xml`, `<CreateUserResponse ` + iamNS + `><CreateUserResult><User><Path>/w/</Path><UserName>wire</UserName><UserId>AIDA`,
				`<Arn>arn:aws:iam::`, `:user/w/wire</Arn><CreateDate>20`, `</CreateUserResult><ResponseMetadata><RequestId>`}},
		{"put user policy", "iam", "eu-west-1", "Action=PutUserPolicy&Version=2010-05-08&UserName=wire&PolicyName=p&PolicyDocument=" +
			"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D", 200,
			[]string{`<PutUserPolicyResponse ` + iamNS + `><ResponseMetadata><RequestId>`}},
		{"get user policy", "iam", "us-east-1", "Action=GetUserPolicy&Version=2010-05-08&UserName=wire&PolicyName=p", 200,
			[]string{`<PolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D</PolicyDocument>`}},
		{"list users", "iam", "us-east-1", "Action=ListUsers&Version=2010-05-08", 200,
			[]string{`<ListUsersResult><Users><member><Path>/w/</Path><UserName>wire</UserName>`, `<IsTruncated>false</IsTruncated></ListUsersResult>`}},
		{"list users paged", "iam", "us-east-1", "Action=ListUsers&Version=2010-05-08&MaxItems=1&Marker=1", 200,
			[]string{`<Users></Users><IsTruncated>false</IsTruncated>`}},
		{"groups of a user (none)", "iam", "us-east-1", "Action=ListGroupsForUser&Version=2010-05-08&UserName=wire", 200,
			[]string{`<ListGroupsForUserResult><Groups></Groups><IsTruncated>false</IsTruncated></ListGroupsForUserResult>`}},
		{"instance profiles of a missing role", "iam", "us-east-1", "Action=ListInstanceProfilesForRole&Version=2010-05-08&RoleName=nope", 404,
			[]string{`<Code>NoSuchEntity</Code><Message>The role with name nope cannot be found.</Message>`}},
		{"no such user", "iam", "us-east-1", "Action=GetUser&Version=2010-05-08&UserName=nobody", 404,
			[]string{`<ErrorResponse ` + iamNS + `><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name nobody cannot be found.</Message></Error><RequestId>`}},
		{"unknown action", "iam", "us-east-1", "Action=FlyAway&Version=2010-05-08", 400,
			[]string{`<Code>InvalidAction</Code><Message>Could not find operation FlyAway for version 2010-05-08</Message>`}},
		{"wrong version", "iam", "us-east-1", "Action=ListUsers&Version=2011-06-15", 400, []string{`<Code>InvalidAction</Code>`}},
		{"no action", "iam", "us-east-1", "Version=2010-05-08", 400, []string{`<Code>MissingAction</Code>`}},
		{"missing parameter", "iam", "us-east-1", "Action=CreateUser&Version=2010-05-08", 400,
			[]string{`<Code>ValidationError</Code><Message>1 validation error detected: Value null at &#39;userName&#39; failed to satisfy constraint: Member must not be null</Message>`}},
		{"other region", "iam", "ap-south-1", "Action=ListUsers&Version=2010-05-08", 400, []string{`<Code>IncompleteSignature</Code>`}},
		{"caller identity", "sts", "eu-west-1", "Action=GetCallerIdentity&Version=2011-06-15", 200,
			[]string{`<GetCallerIdentityResponse ` + stsNS + `><GetCallerIdentityResult><Arn>arn:aws:iam::`, `:root</Arn><UserId>`, `</Account></GetCallerIdentityResult>`}},
		{"sts error", "sts", "us-east-1", "Action=AssumeRole&Version=2011-06-15&RoleSessionName=ab", 400,
			[]string{`<ErrorResponse ` + stsNS + `><Error><Type>Sender</Type><Code>ValidationError</Code>`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { e.wantQueryAnswer(t, tc.service, tc.region, tc.form, tc.status, tc.want) })
	}
}

// wantQueryAnswer sends a Query request and checks its status and that the body holds each
// of want.
func (e *env) wantQueryAnswer(t *testing.T, service, region, form string, status int, want []string) {
	t.Helper()
	got, body := e.queryCall(t, service, region, form)
	if got != status {
		t.Fatalf("status %d, want %d: %s", got, status, body)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %s:\n%s", w, body)
		}
	}
}

// TestSTSPresignedGetCallerIdentity: a presigned GetCallerIdentity (the query signed, the body
// not) answers for the signer, as identity brokers use it; a body never adds parameters.
func TestSTSPresignedGetCallerIdentity(t *testing.T) {
	e := startServer(t)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=900", nil)
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}
	u, _, err := v4.NewSigner().PresignHTTP(ctx(t), creds, req, "UNSIGNED-PAYLOAD", "sts", e.region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"", "Action=AssumeRole"} {
		r, _ := http.NewRequest(http.MethodGet, u, strings.NewReader(body))
		resp, err := e.http.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "<GetCallerIdentityResult><Arn>arn:aws:iam::") {
			t.Fatalf("body %q: %d %s", body, resp.StatusCode, b)
		}
	}
}
