package integration

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/coffer/coffer/internal/server"
)

// trustPolicy lets principal (an ARN or account id) assume the role.
func trustPolicy(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}]}`
}

const allowAssumeRole = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`

// createRole makes a role of the account c signs for and returns its ARN.
func (e *env) createRole(t *testing.T, c creds, name, trust string) string {
	t.Helper()
	r := must[*iam.CreateRoleOutput](t)(e.iamAs(c).CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}))
	return *r.Role.Arn
}

// assumeRole returns the session credentials, or the error.
func (e *env) assumeRole(t *testing.T, c creds, roleARN, session string, opt func(*sts.AssumeRoleInput)) (creds, *sts.AssumeRoleOutput, error) {
	t.Helper()
	in := &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String(session)}
	if opt != nil {
		opt(in)
	}
	out, err := e.stsAs(c).AssumeRole(ctx(t), in)
	if err != nil {
		return creds{}, nil, err
	}
	k := out.Credentials
	return creds{*k.AccessKeyId, *k.SecretAccessKey, *k.SessionToken}, out, nil
}

// TestAssumeRoleTrust: the trust policy decides who may assume a role; naming the account
// delegates to the caller's identity policies.
func TestAssumeRoleTrust(t *testing.T) {
	e := startServer(t)
	account := *must[*sts.GetCallerIdentityOutput](t)(e.stsAs(rootCreds).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})).Account
	alice, u := e.newUser(t, rootCreds, "alice")
	bob, _ := e.newUser(t, rootCreds, "bob")
	direct := e.createRole(t, rootCreds, "ForAlice", trustPolicy(*u.Arn))
	viaAccount := e.createRole(t, rootCreds, "ForAccount", trustPolicy("arn:aws:iam::"+account+":root"))
	cases := []struct {
		name   string
		caller creds
		role   string
		allow  bool
	}{
		{"user named by the trust policy", alice, direct, true},
		{"user not named", bob, direct, false},
		{"account named, no identity policy", alice, viaAccount, false},
		{"the account root (never, as in AWS)", rootCreds, viaAccount, false},
		{"no such role", alice, "arn:aws:iam::" + account + ":role/Nope", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, out, err := e.assumeRole(t, tc.caller, tc.role, "s1", nil)
			if !tc.allow {
				wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			name := tc.role[strings.LastIndexByte(tc.role, '/')+1:]
			if *out.AssumedRoleUser.Arn != "arn:aws:sts::"+account+":assumed-role/"+name+"/s1" ||
				!strings.HasPrefix(*out.AssumedRoleUser.AssumedRoleId, "AROA") || !strings.HasSuffix(*out.AssumedRoleUser.AssumedRoleId, ":s1") ||
				!strings.HasPrefix(*out.Credentials.AccessKeyId, "ASIA") {
				t.Errorf("AssumeRole = %+v %+v", out.AssumedRoleUser, out.Credentials)
			}
			if d := time.Until(*out.Credentials.Expiration); d < 59*time.Minute || d > time.Hour {
				t.Errorf("expires in %v, want an hour", d)
			}
		})
	}
	t.Run("account named, identity policy allows", func(t *testing.T) {
		e.putUserPolicy(t, rootCreds, "alice", "assume", allowAssumeRole)
		if _, _, err := e.assumeRole(t, alice, viaAccount, "s2", nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("duration beyond the role's maximum", func(t *testing.T) {
		_, _, err := e.assumeRole(t, alice, direct, "s3", func(in *sts.AssumeRoleInput) { in.DurationSeconds = aws.Int32(7200) })
		wantAPIError(t, err, "ValidationError", http.StatusBadRequest)
	})
	t.Run("malformed trust policy", func(t *testing.T) {
		_, err := e.iamAs(rootCreds).CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("Bad"),
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)})
		wantAPIError(t, err, "MalformedPolicyDocument", http.StatusBadRequest)
	})
}

// TestRoleSessionCredentials: a role session's credentials work on S3 (header-signed and
// presigned), KMS, STS and IAM with the role's policies; a wrong, missing or expired session
// token is refused with each service's error.
func TestRoleSessionCredentials(t *testing.T) {
	var ahead atomic.Int64
	e := startServerWith(t, server.Config{Dir: t.TempDir(), IAMNow: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	account := *must[*sts.GetCallerIdentityOutput](t)(e.stsAs(rootCreds).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})).Account
	role := e.createRole(t, rootCreds, "App", trustPolicy(account))
	must[*iam.PutRolePolicyOutput](t)(e.iamAs(rootCreds).PutRolePolicy(ctx(t), &iam.PutRolePolicyInput{RoleName: aws.String("App"),
		PolicyName: aws.String("all"), PolicyDocument: aws.String(allowAll)}))
	worker, _ := e.newUser(t, rootCreds, "worker")
	e.putUserPolicy(t, rootCreds, "worker", "assume", allowAssumeRole)
	sess, _, err := e.assumeRole(t, worker, role, "worker", nil)
	if err != nil {
		t.Fatal(err)
	}
	id := must[*sts.GetCallerIdentityOutput](t)(e.stsAs(sess).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}))
	if *id.Arn != "arn:aws:sts::"+account+":assumed-role/App/worker" || !strings.HasSuffix(*id.UserId, ":worker") {
		t.Fatalf("GetCallerIdentity = %s %s", *id.Arn, *id.UserId)
	}
	must[*s3.CreateBucketOutput](t)(e.s3As(sess).CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("sess")}))
	must[*s3.PutObjectOutput](t)(e.s3As(sess).PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("sess"), Key: aws.String("k"), Body: stringsReader("data")}))
	key := must[*kms.CreateKeyOutput](t)(e.kmsAs(sess).CreateKey(ctx(t), &kms.CreateKeyInput{}))
	must[*kms.EncryptOutput](t)(e.kmsAs(sess).Encrypt(ctx(t), &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte("x")}))
	must[*iam.ListRolesOutput](t)(e.iamAs(sess).ListRoles(ctx(t), &iam.ListRolesInput{}))

	t.Run("presigned with the token", func(t *testing.T) {
		p := must[*s3PresignedRequest](t)(presignGet(ctx(t), s3.NewPresignClient(e.s3As(sess)), "sess", "k", time.Minute))
		if !strings.Contains(p.URL, "X-Amz-Security-Token=") {
			t.Fatalf("no token in %s", p.URL)
		}
		resp := must[*http.Response](t)(e.http.Get(p.URL))
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "data" {
			t.Fatalf("GET %d %s", resp.StatusCode, body)
		}
	})
	wrong := sess
	wrong.Token = sess.Token[:len(sess.Token)-1] + "A"
	if wrong.Token == sess.Token {
		wrong.Token = sess.Token[:len(sess.Token)-1] + "B"
	}
	missing := sess
	missing.Token = ""
	for _, tc := range []struct {
		name string
		c    creds
	}{{"wrong token", wrong}, {"missing token", missing}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s3As(tc.c).ListBuckets(ctx(t), &s3.ListBucketsInput{})
			wantAPIError(t, err, "InvalidToken", http.StatusBadRequest)
			_, err = e.kmsAs(tc.c).ListKeys(ctx(t), &kms.ListKeysInput{})
			wantAPIError(t, err, "UnrecognizedClientException", http.StatusBadRequest)
			_, err = e.stsAs(tc.c).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
			wantAPIError(t, err, "InvalidClientTokenId", http.StatusForbidden)
		})
	}
	t.Run("token with a long-term key", func(t *testing.T) {
		_, err := e.s3As(creds{testAccessKey, testSecretKey, sess.Token}).ListBuckets(ctx(t), &s3.ListBucketsInput{})
		wantAPIError(t, err, "InvalidToken", http.StatusBadRequest)
	})
	t.Run("expired", func(t *testing.T) {
		ahead.Store(int64(time.Hour + time.Second))
		_, err := e.s3As(sess).ListBuckets(ctx(t), &s3.ListBucketsInput{})
		wantAPIError(t, err, "ExpiredToken", http.StatusBadRequest)
		_, err = e.kmsAs(sess).ListKeys(ctx(t), &kms.ListKeysInput{})
		wantAPIError(t, err, "ExpiredTokenException", http.StatusBadRequest)
		_, err = e.stsAs(sess).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
		wantAPIError(t, err, "ExpiredToken", http.StatusForbidden)
		_, err = e.iamAs(sess).ListRoles(ctx(t), &iam.ListRolesInput{})
		wantAPIError(t, err, "ExpiredToken", http.StatusForbidden)
	})
}

// TestAssumeRoleCrossAccount: a role of another account is assumed only when its trust policy
// names the caller (or its account) and the caller's identity policy allows it.
func TestAssumeRoleCrossAccount(t *testing.T) {
	e := startServer(t)
	acctB, keyB, err := e.srv.CreateAccount(ctx(t), "other")
	if err != nil {
		t.Fatal(err)
	}
	other := creds{keyB.ID, keyB.Secret, ""}
	acctA := *must[*sts.GetCallerIdentityOutput](t)(e.stsAs(rootCreds).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})).Account
	id := must[*sts.GetCallerIdentityOutput](t)(e.stsAs(other).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}))
	if *id.Account != acctB.ID {
		t.Fatalf("other account = %s, want %s", *id.Account, acctB.ID)
	}
	alice, u := e.newUser(t, rootCreds, "alice")
	byAccount := e.createRole(t, other, "TrustsA", trustPolicy(acctA))
	byUser := e.createRole(t, other, "TrustsAlice", trustPolicy(*u.Arn))
	notTrusting := e.createRole(t, other, "TrustsNobody", trustPolicy(acctB.ID))
	try := func(role string) error { _, _, err := e.assumeRole(t, alice, role, "xs", nil); return err }
	for _, role := range []string{byAccount, byUser, notTrusting} {
		wantAPIError(t, try(role), "AccessDenied", http.StatusForbidden) // no identity policy yet
	}
	e.putUserPolicy(t, rootCreds, "alice", "assume", allowAssumeRole)
	for _, role := range []string{byAccount, byUser} {
		if err := try(role); err != nil {
			t.Errorf("%s: %v", role, err)
		}
	}
	wantAPIError(t, try(notTrusting), "AccessDenied", http.StatusForbidden)
	sess, _, err := e.assumeRole(t, alice, byAccount, "xs", nil)
	if err != nil {
		t.Fatal(err)
	}
	id = must[*sts.GetCallerIdentityOutput](t)(e.stsAs(sess).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}))
	if *id.Account != acctB.ID || *id.Arn != "arn:aws:sts::"+acctB.ID+":assumed-role/TrustsA/xs" {
		t.Errorf("session identity = %s %s", *id.Account, *id.Arn)
	}
}
