package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// putPolicy puts a bucket policy as the test's root user.
func (e *env) putPolicy(t *testing.T, bucket, doc string) error {
	t.Helper()
	_, err := e.s3.PutBucketPolicy(ctx(t), &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)})
	return err
}

// mustPutPolicy puts a bucket policy and fails the test if it is refused.
func (e *env) mustPutPolicy(t *testing.T, bucket, doc string) {
	t.Helper()
	if err := e.putPolicy(t, bucket, doc); err != nil {
		t.Fatalf("PutBucketPolicy: %v", err)
	}
}

// unblockPublicAccess deletes the bucket's Block Public Access configuration.
func (e *env) unblockPublicAccess(t *testing.T, bucket string) {
	t.Helper()
	must[*s3.DeletePublicAccessBlockOutput](t)(e.s3.DeletePublicAccessBlock(ctx(t), &s3.DeletePublicAccessBlockInput{Bucket: aws.String(bucket)}))
}

// policyDoc is a policy document of the statements given as JSON objects.
func policyDoc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// publicRead is AWS's "grant read-only permission to anonymous users" statement.
func publicRead(bucket string) string {
	return `{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` + bucket + `/*"]}`
}

// TestBucketPolicyAPI: Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus, with S3's answers
// to documents it refuses.
func TestBucketPolicyAPI(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "pol")
	b := aws.String("pol")
	private := policyDoc(`{"Sid":"OwnerOnly","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::pol/keep/*"}`)

	t.Run("none yet", func(t *testing.T) {
		_, err := e.s3.GetBucketPolicy(c, &s3.GetBucketPolicyInput{Bucket: b})
		wantAPIError(t, err, "NoSuchBucketPolicy", 404)
		_, err = e.s3.GetBucketPolicyStatus(c, &s3.GetBucketPolicyStatusInput{Bucket: b})
		wantAPIError(t, err, "NoSuchBucketPolicy", 404)
	})
	refused := []struct {
		name, doc, code string
		status          int
		msg             string
	}{
		{"not JSON", "{nope", "MalformedPolicy", 400, ""},
		{"resource of another bucket", policyDoc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}`), "MalformedPolicy", 400, "Policy has invalid resource"},
		{"no principal", policyDoc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol/*"}`), "MalformedPolicy", 400, ""},
		{"action of another service", policyDoc(`{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"arn:aws:s3:::pol/*"}`), "MalformedPolicy", 400, "Policy has invalid action"},
		{"over 20 KB", policyDoc(strings.Repeat(`{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::pol/a-long-prefix-to-fill-the-document/*"},`, 200) +
			`{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::pol/x"}`), "PolicyTooLarge", 400, ""},
		{"public while blocked", policyDoc(publicRead("pol")), "AccessDenied", 403,
			`User: arn:aws:iam::` + e.srv.Identity.AccountID + `:root is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::pol" because public policies are blocked by the BlockPublicPolicy block public access setting.`},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			err := e.putPolicy(t, "pol", tc.doc)
			wantAPIError(t, err, tc.code, tc.status)
			if tc.msg != "" {
				wantMessage(t, err, tc.msg)
			}
			_, err = e.s3.GetBucketPolicy(c, &s3.GetBucketPolicyInput{Bucket: b})
			wantAPIError(t, err, "NoSuchBucketPolicy", 404)
		})
	}
	t.Run("missing bucket", func(t *testing.T) {
		wantAPIError(t, e.putPolicy(t, "nosuchbucket", private), "NoSuchBucket", 404)
	})
	t.Run("put get status", func(t *testing.T) {
		e.mustPutPolicy(t, "pol", "  "+private+"\n")
		got := must[*s3.GetBucketPolicyOutput](t)(e.s3.GetBucketPolicy(c, &s3.GetBucketPolicyInput{Bucket: b}))
		if aws.ToString(got.Policy) != private {
			t.Fatalf("policy %q, want %q", aws.ToString(got.Policy), private)
		}
		st := must[*s3.GetBucketPolicyStatusOutput](t)(e.s3.GetBucketPolicyStatus(c, &s3.GetBucketPolicyStatusInput{Bucket: b}))
		if aws.ToBool(st.PolicyStatus.IsPublic) {
			t.Fatal("a deny-only policy reported public")
		}
	})
	t.Run("confirm remove self access", func(t *testing.T) {
		_, err := e.s3.PutBucketPolicy(c, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(private), ConfirmRemoveSelfBucketAccess: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("public once unblocked", func(t *testing.T) {
		e.unblockPublicAccess(t, "pol")
		e.mustPutPolicy(t, "pol", policyDoc(publicRead("pol")))
		st := must[*s3.GetBucketPolicyStatusOutput](t)(e.s3.GetBucketPolicyStatus(c, &s3.GetBucketPolicyStatusInput{Bucket: b}))
		if !aws.ToBool(st.PolicyStatus.IsPublic) {
			t.Fatal("a public-read policy reported not public")
		}
	})
	t.Run("delete", func(t *testing.T) {
		must[*s3.DeleteBucketPolicyOutput](t)(e.s3.DeleteBucketPolicy(c, &s3.DeleteBucketPolicyInput{Bucket: b}))
		_, err := e.s3.GetBucketPolicy(c, &s3.GetBucketPolicyInput{Bucket: b})
		wantAPIError(t, err, "NoSuchBucketPolicy", 404)
		must[*s3.DeleteBucketPolicyOutput](t)(e.s3.DeleteBucketPolicy(c, &s3.DeleteBucketPolicyInput{Bucket: b}))
	})
}

// TestPublicAccessBlock: new buckets block everything; the configuration round-trips and can
// be deleted; BlockPublicPolicy refuses public policies and RestrictPublicBuckets takes a
// public policy's grants from anonymous callers.
func TestPublicAccessBlock(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "pab")
	b := aws.String("pab")
	get := func(t *testing.T) types.PublicAccessBlockConfiguration {
		t.Helper()
		out := must[*s3.GetPublicAccessBlockOutput](t)(e.s3.GetPublicAccessBlock(c, &s3.GetPublicAccessBlockInput{Bucket: b}))
		return *out.PublicAccessBlockConfiguration
	}
	all := func(v bool) types.PublicAccessBlockConfiguration {
		return types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(v), IgnorePublicAcls: aws.Bool(v), BlockPublicPolicy: aws.Bool(v), RestrictPublicBuckets: aws.Bool(v)}
	}
	same := func(a, b types.PublicAccessBlockConfiguration) bool {
		return aws.ToBool(a.BlockPublicAcls) == aws.ToBool(b.BlockPublicAcls) && aws.ToBool(a.IgnorePublicAcls) == aws.ToBool(b.IgnorePublicAcls) &&
			aws.ToBool(a.BlockPublicPolicy) == aws.ToBool(b.BlockPublicPolicy) && aws.ToBool(a.RestrictPublicBuckets) == aws.ToBool(b.RestrictPublicBuckets)
	}
	put := func(t *testing.T, cfg types.PublicAccessBlockConfiguration) {
		t.Helper()
		must[*s3.PutPublicAccessBlockOutput](t)(e.s3.PutPublicAccessBlock(c, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &cfg}))
	}
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: stringsReader("data")}))

	t.Run("new bucket blocks all", func(t *testing.T) {
		if got := get(t); !same(got, all(true)) {
			t.Fatalf("new bucket's configuration %+v", got)
		}
	})
	t.Run("put round trip", func(t *testing.T) {
		cfg := all(true)
		cfg.BlockPublicPolicy = aws.Bool(false)
		put(t, cfg)
		if got := get(t); !same(got, cfg) {
			t.Fatalf("got %+v, want %+v", got, cfg)
		}
	})
	t.Run("restricted public policy grants anonymous nothing", func(t *testing.T) {
		e.mustPutPolicy(t, "pab", policyDoc(publicRead("pab")))
		wantRawError(t, e.anonymous(t, http.MethodGet, "/pab/k"), "AccessDenied", 403)
		must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")}))
	})
	t.Run("unrestricted public policy", func(t *testing.T) {
		put(t, all(false))
		resp := e.anonymous(t, http.MethodGet, "/pab/k")
		if body := mustRead(t, resp); resp.StatusCode != 200 || string(body) != "data" {
			t.Fatalf("anonymous GET: %d %q", resp.StatusCode, body)
		}
	})
	t.Run("delete", func(t *testing.T) {
		must[*s3.DeletePublicAccessBlockOutput](t)(e.s3.DeletePublicAccessBlock(c, &s3.DeletePublicAccessBlockInput{Bucket: b}))
		_, err := e.s3.GetPublicAccessBlock(c, &s3.GetPublicAccessBlockInput{Bucket: b})
		wantAPIError(t, err, "NoSuchPublicAccessBlockConfiguration", 404)
	})
	t.Run("block public policy with a public policy in force", func(t *testing.T) {
		// Blocking public policies refuses new ones; the one in force stays until removed.
		put(t, all(true))
		wantAPIError(t, e.putPolicy(t, "pab", policyDoc(publicRead("pab"))), "AccessDenied", 403)
		wantRawError(t, e.anonymous(t, http.MethodGet, "/pab/k"), "AccessDenied", 403)
	})
	t.Run("malformed", func(t *testing.T) {
		resp := e.raw(t, http.MethodPut, "/pab?publicAccessBlock", "<PublicAccessBlockConfiguration><BlockPublicAcls>maybe</BlockPublicAcls></PublicAccessBlockConfiguration>",
			map[string]string{"Content-MD5": md5b64("<PublicAccessBlockConfiguration><BlockPublicAcls>maybe</BlockPublicAcls></PublicAccessBlockConfiguration>")}, nowUTC())
		wantRawError(t, resp, "MalformedXML", 400)
	})
}

// anonymous sends an unsigned request over HTTPS, as a browser or curl would.
func (e *env) anonymous(t *testing.T, method, pathQuery string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+pathQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(t, req)
}

// TestAnonymousAccess: unsigned requests are allowed exactly where a bucket policy allows "*"
// and Block Public Access does not stop it; bad signatures stay signature errors.
func TestAnonymousAccess(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	for _, name := range []string{"open", "closed"} {
		newBucket(t, e, name)
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("dir/k"), Body: stringsReader("hello")}))
	}
	e.unblockPublicAccess(t, "open")
	e.mustPutPolicy(t, "open", policyDoc(publicRead("open")))

	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"public-read GET", http.MethodGet, "/open/dir/k", 200, ""},
		{"public-read HEAD", http.MethodHead, "/open/dir/k", 200, ""},
		{"public-read missing key, no list permission", http.MethodGet, "/open/dir/none", 403, "AccessDenied"},
		{"no list permission", http.MethodGet, "/open?list-type=2", 403, "AccessDenied"},
		{"no write permission", http.MethodPut, "/open/new", 403, "AccessDenied"},
		{"no delete permission", http.MethodDelete, "/open/dir/k", 403, "AccessDenied"},
		{"no policy read", http.MethodGet, "/open?policy", 403, "AccessDenied"},
		{"bucket without policy", http.MethodGet, "/closed/dir/k", 403, "AccessDenied"},
		{"list buckets", http.MethodGet, "/", 403, "AccessDenied"},
		{"create bucket", http.MethodPut, "/anonbucket", 403, "AccessDenied"},
		{"missing bucket", http.MethodGet, "/nosuchbucket/k", 404, "NoSuchBucket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.anonymous(t, tc.method, tc.path)
			if tc.code == "" {
				body := mustRead(t, resp)
				if resp.StatusCode != tc.status || (tc.method == http.MethodGet && string(body) != "hello") {
					t.Fatalf("%s %s: %d %q", tc.method, tc.path, resp.StatusCode, body)
				}
				return
			}
			if tc.method == http.MethodHead {
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
				}
				return
			}
			re := wantRawError(t, resp, tc.code, tc.status)
			if tc.code == "AccessDenied" && re.Message != "Access Denied" {
				t.Fatalf("anonymous refusal says %q", re.Message)
			}
		})
	}
	t.Run("plain http.Get", func(t *testing.T) {
		resp, err := http.Get(e.srv.HTTPURL + "/open/dir/k")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if body := mustRead(t, resp); resp.StatusCode != 200 || string(body) != "hello" {
			t.Fatalf("http.Get: %d %q", resp.StatusCode, body)
		}
	})
	t.Run("bad signature stays a signature error", func(t *testing.T) {
		resp := e.rawAs(t, testAccessKey, "wrong-secret", http.MethodGet, "/open/dir/k", "", nil, nowUTC())
		wantRawError(t, resp, "SignatureDoesNotMatch", 403)
	})
	t.Run("unknown access key stays an access key error", func(t *testing.T) {
		resp := e.rawAs(t, "AKIAUNKNOWN000000000", "x", http.MethodGet, "/open/dir/k", "", nil, nowUTC())
		wantRawError(t, resp, "InvalidAccessKeyId", 403)
	})
	t.Run("blocked again", func(t *testing.T) {
		cfg := types.PublicAccessBlockConfiguration{RestrictPublicBuckets: aws.Bool(true)}
		must[*s3.PutPublicAccessBlockOutput](t)(e.s3.PutPublicAccessBlock(c, &s3.PutPublicAccessBlockInput{Bucket: aws.String("open"), PublicAccessBlockConfiguration: &cfg}))
		wantRawError(t, e.anonymous(t, http.MethodGet, "/open/dir/k"), "AccessDenied", 403)
	})
}

// TestBucketPolicyDenyBindsOwner: a Deny statement binds the bucket owner's root user too,
// with AWS's explained message, except that the root user may always read, replace and delete
// the policy, the way out of a policy that denies everyone.
func TestBucketPolicyDenyBindsOwner(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "lock")
	b := aws.String("lock")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: stringsReader("x")}))
	e.mustPutPolicy(t, "lock", policyDoc(`{"Sid":"DenyAll","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::lock","arn:aws:s3:::lock/*"]}`))
	root := "arn:aws:iam::" + e.srv.Identity.AccountID + ":root"

	denied := []struct {
		name, action, resource string
		call                   func() error
	}{
		{"GetObject", "s3:GetObject", "arn:aws:s3:::lock/k", func() error {
			_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")})
			return err
		}},
		{"PutObject", "s3:PutObject", "arn:aws:s3:::lock/k2", func() error {
			_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("k2"), Body: stringsReader("x")})
			return err
		}},
		{"ListObjectsV2", "s3:ListBucket", "arn:aws:s3:::lock", func() error {
			_, err := e.s3.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: b})
			return err
		}},
		{"PutBucketEncryption", "s3:PutEncryptionConfiguration", "arn:aws:s3:::lock", func() error {
			_, err := e.s3.PutBucketEncryption(c, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
				Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}}}}})
			return err
		}},
		{"DeleteBucket", "s3:DeleteBucket", "arn:aws:s3:::lock", func() error {
			_, err := e.s3.DeleteBucket(c, &s3.DeleteBucketInput{Bucket: b})
			return err
		}},
	}
	for _, tc := range denied {
		t.Run("denied/"+tc.name, func(t *testing.T) {
			err := tc.call()
			wantAPIError(t, err, "AccessDenied", 403)
			wantMessage(t, err, fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %q with an explicit deny in a resource-based policy", root, tc.action, tc.resource))
		})
	}
	t.Run("HeadObject", func(t *testing.T) {
		_, err := e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: b, Key: aws.String("k")})
		wantAPIError(t, err, "", 403)
	})
	t.Run("root escape", func(t *testing.T) {
		must[*s3.GetBucketPolicyOutput](t)(e.s3.GetBucketPolicy(c, &s3.GetBucketPolicyInput{Bucket: b}))
		must[*s3.DeleteBucketPolicyOutput](t)(e.s3.DeleteBucketPolicy(c, &s3.DeleteBucketPolicyInput{Bucket: b}))
		must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")}))
	})
}

// TestAnonymousSSEKMSObject: S3 refuses anonymous reads of SSE-KMS objects whatever the
// policies say — even when the bucket policy makes the object public and the key policy lets
// everyone decrypt — while a public SSE-S3 object beside it is readable.
func TestAnonymousSSEKMSObject(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	acct := e.account(t, rootCreds)
	keyID, _ := e.keyWithPolicy(t, rootCreds, acct,
		`{"Effect":"Allow","Principal":"*","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*"}`)
	newBucket(t, e, "open")
	e.unblockPublicAccess(t, "open")
	e.mustPutPolicy(t, "open", policyDoc(publicRead("open")))
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("open"), Key: aws.String("dir/kms"),
		Body: stringsReader("hello"), ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: &keyID}))
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("open"), Key: aws.String("dir/s3"),
		Body: stringsReader("hello"), ServerSideEncryption: types.ServerSideEncryptionAes256}))

	resp := e.anonymous(t, http.MethodGet, "/open/dir/kms")
	if re := wantRawError(t, resp, "AccessDenied", http.StatusForbidden); re.Message != "Access Denied" {
		t.Fatalf("anonymous SSE-KMS read refused with %q", re.Message)
	}
	resp = e.anonymous(t, http.MethodGet, "/open/dir/s3")
	if body := mustRead(t, resp); resp.StatusCode != http.StatusOK || string(body) != "hello" {
		t.Fatalf("anonymous SSE-S3 read: %d %q", resp.StatusCode, body)
	}
}
