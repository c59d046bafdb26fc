package object_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/policy"
)

const (
	ownerAccount = "111122223333"
	otherAccount = "444455556666"
)

// principals of the authorization tests.
func rootOf(account string) iam.Principal {
	return iam.Principal{AccountID: account, ARN: "arn:aws:iam::" + account + ":root", Type: iam.PrincipalAccount, Root: true, UserID: account}
}

func userOf(t testing.TB, account, name string, docs ...string) iam.Principal {
	return iam.Principal{AccountID: account, ARN: "arn:aws:iam::" + account + ":user/" + name, Type: iam.PrincipalUser,
		UserName: name, UserID: "AIDA" + strings.ToUpper(name), Policies: identityPolicies(t, docs...)}
}

func identityPolicies(t testing.TB, docs ...string) []*policy.Policy {
	var out []*policy.Policy
	for _, d := range docs {
		p, err := policy.Parse(d, policy.IdentityKind)
		if err != nil {
			t.Fatalf("identity policy %s: %v", d, err)
		}
		out = append(out, p)
	}
	return out
}

func asCaller(p iam.Principal) context.Context {
	return iam.WithRequest(context.Background(), &iam.Request{Principal: p, SourceIP: netip.MustParseAddr("127.0.0.1"),
		SecureTransport: true, AuthType: iam.AuthHeader, SignatureVersion: iam.SigV4, Time: time.Now(), Region: "us-east-1"})
}

func doc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// newAuthzService returns a service with one bucket "bkt" of ownerAccount holding the policy.
func newAuthzService(t testing.TB, bucketPolicy string, pab *meta.PublicAccessBlock) *object.Service {
	t.Helper()
	_, ms, blobs := realStores(t, t.TempDir())
	if err := ms.CreateBucket(context.Background(), meta.Bucket{Name: "bkt", Owner: ownerAccount, Policy: bucketPolicy, PublicAccessBlock: pab}); err != nil {
		t.Fatal(err)
	}
	return object.New(object.Config{Meta: ms, Blobs: blobs})
}

// TestAuthorize: the one decision combines the caller's identity policies, the bucket policy
// and Block Public Access as AWS does, and says why it refused.
func TestAuthorize(t *testing.T) {
	readAlice := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + ownerAccount + `:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}`
	grantOther := `{"Effect":"Allow","Principal":{"AWS":"` + otherAccount + `"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"]}`
	public := `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}`
	denyAll := `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"]}`
	userRead := doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`)
	anonymous := iam.Principal{Type: iam.PrincipalAnonymous}
	restrict := &meta.PublicAccessBlock{RestrictPublicBuckets: true}

	tests := []struct {
		name     string
		policy   string
		pab      *meta.PublicAccessBlock
		caller   iam.Principal
		action   string
		key      string
		allowed  bool
		explicit bool
		deniedBy string
	}{
		{"owner root", "", nil, rootOf(ownerAccount), "s3:PutObject", "k", true, false, ""},
		{"other root without policy", "", nil, rootOf(otherAccount), "s3:GetObject", "k", false, false, policy.DeniedByResource},
		{"other root granted", doc(grantOther), nil, rootOf(otherAccount), "s3:GetObject", "k", true, false, ""},
		{"other root granted, not this action", doc(grantOther), nil, rootOf(otherAccount), "s3:PutObject", "k", false, false, policy.DeniedByResource},
		{"other account's user granted but no identity allow", doc(grantOther), nil, userOf(t, otherAccount, "bob"), "s3:GetObject", "k", false, false, policy.DeniedByIdentity},
		{"other account's user granted with identity allow", doc(grantOther), nil, userOf(t, otherAccount, "bob", userRead), "s3:GetObject", "k", true, false, ""},
		{"user without policies", "", nil, userOf(t, ownerAccount, "alice"), "s3:GetObject", "k", false, false, policy.DeniedByIdentity},
		{"user by identity policy", "", nil, userOf(t, ownerAccount, "alice", userRead), "s3:GetObject", "k", true, false, ""},
		{"user by identity policy, other action", "", nil, userOf(t, ownerAccount, "alice", userRead), "s3:PutObject", "k", false, false, policy.DeniedByIdentity},
		{"user by bucket policy", doc(readAlice), nil, userOf(t, ownerAccount, "alice"), "s3:GetObject", "k", true, false, ""},
		{"deny binds owner root", doc(denyAll), nil, rootOf(ownerAccount), "s3:GetObject", "k", false, true, policy.DeniedByResource},
		{"owner root escape: DeleteBucketPolicy", doc(denyAll), nil, rootOf(ownerAccount), "s3:DeleteBucketPolicy", "", true, false, ""},
		{"no escape for users", doc(denyAll), nil, userOf(t, ownerAccount, "alice", doc(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`)), "s3:DeleteBucketPolicy", "", false, true, policy.DeniedByResource},
		{"no escape for other roots", doc(denyAll), nil, rootOf(otherAccount), "s3:DeleteBucketPolicy", "", false, true, policy.DeniedByResource},
		{"anonymous without policy", "", nil, anonymous, "s3:GetObject", "k", false, false, policy.DeniedByResource},
		{"anonymous public read", doc(public), nil, anonymous, "s3:GetObject", "k", true, false, ""},
		{"anonymous public read, restricted", doc(public), restrict, anonymous, "s3:GetObject", "k", false, false, ""},
		{"other root public read, restricted", doc(public), restrict, rootOf(otherAccount), "s3:GetObject", "k", false, false, policy.DeniedByResource},
		{"owner's user public read, restricted", doc(public), restrict, userOf(t, ownerAccount, "alice"), "s3:GetObject", "k", true, false, ""},
		{"anonymous denied while restricted", doc(public, denyAll), restrict, anonymous, "s3:GetObject", "k", false, true, policy.DeniedByResource},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := newAuthzService(t, tc.policy, tc.pab)
			_, err := svc.Authorize(asCaller(tc.caller), object.Access{Action: tc.action, Bucket: "bkt", Key: tc.key})
			if tc.allowed {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ad *object.AccessDeniedError
			if !errors.As(err, &ad) {
				t.Fatalf("got %v, want an AccessDeniedError", err)
			}
			if ad.ExplicitDeny != tc.explicit || (tc.deniedBy != "" && ad.DeniedBy != tc.deniedBy) {
				t.Fatalf("explicit %v by %q, want %v by %q", ad.ExplicitDeny, ad.DeniedBy, tc.explicit, tc.deniedBy)
			}
			if want := tc.caller.AccountID == ownerAccount; ad.Explained != want {
				t.Fatalf("Explained = %v, want %v", ad.Explained, want)
			}
		})
	}
	t.Run("missing bucket", func(t *testing.T) {
		svc := newAuthzService(t, "", nil)
		_, err := svc.Authorize(asCaller(anonymous), object.Access{Action: "s3:GetObject", Bucket: "nope", Key: "k"})
		if !errors.Is(err, object.ErrNoSuchBucket) {
			t.Fatalf("got %v, want NoSuchBucket", err)
		}
	})
	t.Run("no identity", func(t *testing.T) {
		svc := newAuthzService(t, "", nil)
		_, err := svc.Authorize(context.Background(), object.Access{Action: "s3:GetObject", Bucket: "bkt", Key: "k"})
		if !errors.Is(err, object.ErrAccessDenied) {
			t.Fatalf("got %v, want access denied", err)
		}
	})
}

// TestAuthorizeRoleSession: a role session's session policy limits what its role's identity
// policy allows.
func TestAuthorizeRoleSession(t *testing.T) {
	svc := newAuthzService(t, "", nil)
	session := func(sessionPolicies ...string) iam.Principal {
		return iam.Principal{AccountID: ownerAccount, ARN: "arn:aws:sts::" + ownerAccount + ":assumed-role/reader/s1", Type: iam.PrincipalAssumedRole,
			RoleARN: "arn:aws:iam::" + ownerAccount + ":role/reader", SessionName: "s1", UserID: "AROAREADER:s1",
			Policies:        identityPolicies(t, doc(`{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bkt/*"}`)),
			SessionPolicies: identityPolicies(t, sessionPolicies...)}
	}
	tests := []struct {
		name    string
		caller  iam.Principal
		action  string
		allowed bool
	}{
		{"role policy read", session(), "s3:GetObject", true},
		{"role policy write", session(), "s3:PutObject", true},
		{"session policy allows read", session(doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`)), "s3:GetObject", true},
		{"session policy limits write", session(doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`)), "s3:PutObject", false},
		{"role policy does not list", session(), "s3:ListBucket", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "k"
			if tc.action == "s3:ListBucket" {
				key = ""
			}
			_, err := svc.Authorize(asCaller(tc.caller), object.Access{Action: tc.action, Bucket: "bkt", Key: key})
			if (err == nil) != tc.allowed {
				t.Fatalf("Authorize = %v, want allowed %v", err, tc.allowed)
			}
		})
	}
}

// twentyStatementPolicy is a realistic bucket policy of 20 statements, all evaluated for a GET
// by the owner and none of them matching it but the HTTPS-only deny's check.
func twentyStatementPolicy(bucket string) string {
	var st []string
	for i := range 8 {
		st = append(st, fmt.Sprintf(`{"Sid":"DenyUnencrypted%d","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::%s/p%d/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}`, i, bucket, i))
	}
	for i := range 6 {
		st = append(st, fmt.Sprintf(`{"Sid":"Partner%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%012d:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::%s","arn:aws:s3:::%s/shared%d/*"]}`, i, 100000000000+i, bucket, bucket, i))
	}
	for i := range 4 {
		st = append(st, fmt.Sprintf(`{"Sid":"Office%d","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/office%d/*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.%d.0/24"}}}`, i, bucket, i, i))
	}
	st = append(st, `{"Sid":"KeepLogs","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::`+bucket+`/logs/*"}`)
	st = append(st, `{"Sid":"HTTPSOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::`+bucket+`","arn:aws:s3:::`+bucket+`/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`)
	return doc(st...)
}

// BenchmarkAuthorize measures the one authorization step of a GET by the bucket owner, without
// a bucket policy and with a 20-statement one (parsed once, cached by its text).
func BenchmarkAuthorize(b *testing.B) {
	for _, bc := range []struct{ name, policy string }{{"no-policy", ""}, {"20-statements", twentyStatementPolicy("bkt")}} {
		b.Run(bc.name, func(b *testing.B) {
			svc := newAuthzService(b, bc.policy, nil)
			ctx := asCaller(rootOf(ownerAccount))
			a := object.Access{Action: "s3:GetObject", Bucket: "bkt", Key: "some/key", Conditions: map[string][]string{"s3:tlsversion": {"1.3"}}}
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				if _, err := svc.Authorize(ctx, a); err != nil {
					b.Fatal(err)
				}
			}
			// On a shared machine wall time mostly measures the neighbours; CPU time per
			// operation is what the policy costs.
			b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user and system CPU time so far, in nanoseconds.
func cpuTime(tb testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
