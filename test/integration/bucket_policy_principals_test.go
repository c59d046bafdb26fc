package integration

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// s3Calls are the S3 requests the principal tests try: a read, a write and a listing of the
// bucket "shared".
type s3Calls struct{ c *s3.Client }

func (s s3Calls) get(t *testing.T) error {
	_, err := s.c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("shared"), Key: aws.String("k")})
	return err
}

func (s s3Calls) put(t *testing.T) error {
	_, err := s.c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("new"), Body: stringsReader("x")})
	return err
}

func (s s3Calls) list(t *testing.T) error {
	_, err := s.c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String("shared")})
	return err
}

// wantAllowed fails unless each call succeeds (true) or is refused with AccessDenied (false).
func wantAllowed(t *testing.T, calls map[string]func(*testing.T) error, want map[string]bool) {
	t.Helper()
	for name, call := range calls {
		err := call(t)
		switch {
		case want[name] && err != nil:
			t.Errorf("%s refused: %v", name, err)
		case !want[name]:
			if err == nil {
				t.Errorf("%s allowed, want AccessDenied", name)
				continue
			}
			wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
		}
	}
}

func (s s3Calls) all() map[string]func(*testing.T) error {
	return map[string]func(*testing.T) error{"get": s.get, "put": s.put, "list": s.list}
}

// TestS3IdentityPolicies: an IAM user of the bucket owner's account may do what its identity
// policies or the bucket policy allow, and a deny in either binds it; refusals say why.
func TestS3IdentityPolicies(t *testing.T) {
	e := startServer(t)
	newBucket(t, e, "shared")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("k"), Body: stringsReader("x")}))
	aliceCreds, alice := e.newUser(t, rootCreds, "alice")
	bobCreds, bob := e.newUser(t, rootCreds, "bob")
	as := s3Calls{e.s3As(aliceCreds)}
	bs := s3Calls{e.s3As(bobCreds)}

	t.Run("no policy", func(t *testing.T) {
		wantAllowed(t, as.all(), map[string]bool{})
		wantMessage(t, as.get(t), fmt.Sprintf(`User: %s is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::shared/k" because no identity-based policy allows the s3:GetObject action`, *alice.Arn))
	})
	t.Run("identity policy reads", func(t *testing.T) {
		e.putUserPolicy(t, rootCreds, "alice", "read", policyDoc(`{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::shared","arn:aws:s3:::shared/*"]}`))
		wantAllowed(t, as.all(), map[string]bool{"get": true, "list": true})
	})
	t.Run("missing key: NoSuchKey only to who may list", func(t *testing.T) {
		missing := func(c *s3.Client) error {
			_, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("shared"), Key: aws.String("none")})
			return err
		}
		wantAPIError(t, missing(as.c), "NoSuchKey", http.StatusNotFound)
		e.putUserPolicy(t, rootCreds, "bob", "getonly", policyDoc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}`))
		wantAPIError(t, missing(bs.c), "AccessDenied", http.StatusForbidden)
		must[*s3.GetObjectOutput](t)(bs.c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("shared"), Key: aws.String("k")}))
		must[*iam.DeleteUserPolicyOutput](t)(e.iamAs(rootCreds).DeleteUserPolicy(ctx(t), &iam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("getonly")}))
	})
	t.Run("bucket policy grants the user", func(t *testing.T) {
		e.mustPutPolicy(t, "shared", policyDoc(`{"Sid":"BobWrites","Effect":"Allow","Principal":{"AWS":"`+*bob.Arn+`"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::shared/*"}`))
		wantAllowed(t, bs.all(), map[string]bool{"put": true})
	})
	t.Run("deny in the bucket policy binds the user", func(t *testing.T) {
		e.putUserPolicy(t, rootCreds, "alice", "all", allowAll)
		e.mustPutPolicy(t, "shared", policyDoc(`{"Sid":"NoAliceWrites","Effect":"Deny","Principal":{"AWS":"`+*alice.Arn+`"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::shared/*"}`))
		wantAllowed(t, as.all(), map[string]bool{"get": true, "list": true})
		wantMessage(t, as.put(t), fmt.Sprintf(`User: %s is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::shared/new" with an explicit deny in a resource-based policy`, *alice.Arn))
	})
	t.Run("deny in the identity policy", func(t *testing.T) {
		e.putUserPolicy(t, rootCreds, "alice", "nolist", policyDoc(`{"Effect":"Deny","Action":"s3:ListBucket","Resource":"*"}`))
		wantMessage(t, as.list(t), fmt.Sprintf(`User: %s is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::shared" with an explicit deny in an identity-based policy`, *alice.Arn))
	})
	t.Run("users never escape the bucket policy", func(t *testing.T) {
		e.mustPutPolicy(t, "shared", policyDoc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::shared","arn:aws:s3:::shared/*"]}`))
		_, err := as.c.DeleteBucketPolicy(ctx(t), &s3.DeleteBucketPolicyInput{Bucket: aws.String("shared")})
		wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
		must[*s3.DeleteBucketPolicyOutput](t)(e.s3.DeleteBucketPolicy(ctx(t), &s3.DeleteBucketPolicyInput{Bucket: aws.String("shared")}))
	})
}

// TestS3CrossAccount: another account's principals need the bucket policy to grant their
// account (or them) and, for its users, their own identity policies to allow; they are told
// only "Access Denied".
func TestS3CrossAccount(t *testing.T) {
	e := startServer(t)
	newBucket(t, e, "shared")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("k"), Body: stringsReader("x")}))
	acctB, keyB, err := e.srv.CreateAccount(ctx(t), "other")
	if err != nil {
		t.Fatal(err)
	}
	rootB := creds{keyB.ID, keyB.Secret, ""}
	carolCreds, _ := e.newUser(t, rootB, "carol")
	rb, carol := s3Calls{e.s3As(rootB)}, s3Calls{e.s3As(carolCreds)}

	t.Run("no grant", func(t *testing.T) {
		wantAllowed(t, rb.all(), map[string]bool{})
		wantMessage(t, rb.get(t), "Access Denied")
	})
	t.Run("own bucket list", func(t *testing.T) {
		out := must[*s3.ListBucketsOutput](t)(rb.c.ListBuckets(ctx(t), &s3.ListBucketsInput{}))
		if len(out.Buckets) != 0 {
			t.Fatalf("other account lists %d buckets", len(out.Buckets))
		}
	})
	e.mustPutPolicy(t, "shared", policyDoc(`{"Sid":"ReadForB","Effect":"Allow","Principal":{"AWS":"`+acctB.ID+`"},"Action":["s3:GetObject","s3:ListBucket"],
		"Resource":["arn:aws:s3:::shared","arn:aws:s3:::shared/*"]}`))
	t.Run("granted account's root", func(t *testing.T) {
		wantAllowed(t, rb.all(), map[string]bool{"get": true, "list": true})
	})
	t.Run("granted account's user without identity allow", func(t *testing.T) {
		wantAllowed(t, carol.all(), map[string]bool{})
		wantMessage(t, carol.get(t), "Access Denied")
	})
	t.Run("granted account's user with identity allow", func(t *testing.T) {
		e.putUserPolicy(t, rootB, "carol", "s3", allowAll)
		wantAllowed(t, carol.all(), map[string]bool{"get": true, "list": true})
	})
	t.Run("bucket owner's settings stay the owner's", func(t *testing.T) {
		_, err := rb.c.GetBucketPolicy(ctx(t), &s3.GetBucketPolicyInput{Bucket: aws.String("shared")})
		wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
		_, err = rb.c.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: aws.String("shared")})
		wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	})
}

// TestS3RoleSession: an assumed role's session may do what the role's policies allow, limited
// by a session policy; a bucket policy may grant the role.
func TestS3RoleSession(t *testing.T) {
	e := startServer(t)
	newBucket(t, e, "shared")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("k"), Body: stringsReader("x")}))
	acct := *must[*sts.GetCallerIdentityOutput](t)(e.stsAs(rootCreds).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})).Account
	role := e.createRole(t, rootCreds, "reader", trustPolicy(acct))
	must[*iam.PutRolePolicyOutput](t)(e.iamAs(rootCreds).PutRolePolicy(ctx(t), &iam.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("rw"),
		PolicyDocument: aws.String(policyDoc(`{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::shared/*"}`))}))
	// An account's root user may not assume roles: a user of the account does.
	assumer, _ := e.newUser(t, rootCreds, "assumer")
	e.putUserPolicy(t, rootCreds, "assumer", "assume", allowAssumeRole)
	session := func(t *testing.T, sessionPolicy string) s3Calls {
		c, _, err := e.assumeRole(t, assumer, role, "s1", func(in *sts.AssumeRoleInput) {
			if sessionPolicy != "" {
				in.Policy = aws.String(sessionPolicy)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return s3Calls{e.s3As(c)}
	}
	t.Run("role policy", func(t *testing.T) {
		wantAllowed(t, session(t, "").all(), map[string]bool{"get": true, "put": true})
	})
	t.Run("session policy limits", func(t *testing.T) {
		s := session(t, policyDoc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`))
		wantAllowed(t, s.all(), map[string]bool{"get": true})
	})
	t.Run("bucket policy grants the role", func(t *testing.T) {
		e.mustPutPolicy(t, "shared", policyDoc(`{"Effect":"Allow","Principal":{"AWS":"`+role+`"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::shared"}`))
		wantAllowed(t, session(t, "").all(), map[string]bool{"get": true, "put": true, "list": true})
	})
}
