package policy

import "testing"

func mustParse(t testing.TB, doc string, kind Kind) *Policy {
	t.Helper()
	p, err := Parse(doc, kind)
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

// TestDecide is the combination matrix of AWS's policy evaluation logic: same and cross
// account, explicit deny, session policies, the KMS key policy's authority and grants,
// anonymous requests.
func TestDecide(t *testing.T) {
	identity := func(effect, action string) *Policy {
		return mustParse(t, stmt(`"Effect":"`+effect+`","Action":"`+action+`","Resource":"*"`), IdentityKind)
	}
	resource := func(effect, principal, action string) *Policy {
		return mustParse(t, stmt(`"Effect":"`+effect+`","Principal":`+principal+`,"Action":"`+action+`","Resource":"*"`), ResourceKind)
	}
	var (
		alice   = Principal{ARN: "arn:aws:iam::111122223333:user/alice", Account: "111122223333"}
		root    = Principal{ARN: "arn:aws:iam::111122223333:root", Account: "111122223333"}
		bob     = Principal{ARN: "arn:aws:iam::444455556666:user/bob", Account: "444455556666"}
		session = Principal{ARN: "arn:aws:sts::111122223333:assumed-role/R/s", Account: "111122223333", RoleARN: "arn:aws:iam::111122223333:role/R"}
		xsess   = Principal{ARN: "arn:aws:sts::444455556666:assumed-role/W/s", Account: "444455556666", RoleARN: "arn:aws:iam::444455556666:role/W"}
		anon    = Principal{Anonymous: true}

		idGet      = identity("Allow", "s3:GetObject")
		idPut      = identity("Allow", "s3:PutObject")
		idDenyGet  = identity("Deny", "s3:GetObject")
		idKMS      = identity("Allow", "kms:*")
		idDenyKMS  = identity("Deny", "kms:Decrypt")
		sessGet    = identity("Allow", "s3:GetObject")
		sessPut    = identity("Allow", "s3:PutObject")
		sessDeny   = identity("Deny", "s3:*")
		bucketOwn  = resource("Allow", `{"AWS":"111122223333"}`, "s3:GetObject")
		bucketBobA = resource("Allow", `{"AWS":"444455556666"}`, "s3:GetObject")
		bucketBob  = resource("Allow", `{"AWS":"arn:aws:iam::444455556666:user/bob"}`, "s3:GetObject")
		bucketAl   = resource("Allow", `{"AWS":"arn:aws:iam::111122223333:user/alice"}`, "s3:GetObject")
		bucketDeny = resource("Deny", `"*"`, "s3:GetObject")
		bucketPub  = resource("Allow", `"*"`, "s3:GetObject")
		bucketPubA = resource("Allow", `{"AWS":"*"}`, "s3:GetObject")
		bucketSess = resource("Allow", `{"AWS":"arn:aws:sts::111122223333:assumed-role/R/s"}`, "s3:GetObject")
		bucketRole = resource("Allow", `{"AWS":"arn:aws:iam::111122223333:role/R"}`, "s3:GetObject")
		keyDefault = resource("Allow", `{"AWS":"arn:aws:iam::111122223333:root"}`, "kms:*")
		keyAlice   = resource("Allow", `{"AWS":"arn:aws:iam::111122223333:user/alice"}`, "kms:Decrypt")
		keyCross   = resource("Allow", `{"AWS":"arn:aws:iam::444455556666:root"}`, "kms:Decrypt")
		keyBob     = resource("Allow", `{"AWS":"arn:aws:iam::444455556666:user/bob"}`, "kms:Decrypt")
		keyNone    = resource("Allow", `{"AWS":"arn:aws:iam::111122223333:user/admin"}`, "kms:PutKeyPolicy")
		keyDeny    = resource("Deny", `"*"`, "kms:Decrypt")
	)
	const own = "111122223333"
	allowed := Decision{Allowed: true}
	noIdentity := Decision{DeniedBy: DeniedByIdentity}
	noResource := Decision{DeniedBy: DeniedByResource}
	noSession := Decision{DeniedBy: DeniedBySession}
	tests := []struct {
		name      string
		principal Principal
		action    string
		in        Inputs
		want      Decision
	}{
		// One account, not authoritative (S3).
		{"same account: identity allows", alice, "s3:GetObject", Inputs{Identity: []*Policy{idGet}, ResourceAccount: own}, allowed},
		{"same account: nothing allows", alice, "s3:GetObject", Inputs{ResourceAccount: own}, noIdentity},
		{"same account: identity allows another action", alice, "s3:GetObject", Inputs{Identity: []*Policy{idPut}, ResourceAccount: own}, noIdentity},
		{"same account: bucket policy names the user", alice, "s3:GetObject", Inputs{Resource: bucketAl, ResourceAccount: own}, allowed},
		{"same account: bucket policy names the account only", alice, "s3:GetObject", Inputs{Resource: bucketOwn, ResourceAccount: own}, noIdentity},
		{"same account: bucket policy names the account, identity allows", alice, "s3:GetObject", Inputs{Identity: []*Policy{idGet}, Resource: bucketOwn, ResourceAccount: own}, allowed},
		{"same account: root with IdentityAll", root, "s3:GetObject", Inputs{IdentityAll: true, ResourceAccount: own}, allowed},
		{"same account: root named by account", root, "s3:GetObject", Inputs{Resource: bucketOwn, ResourceAccount: own}, allowed},
		{"same account: bucket policy \"*\"", alice, "s3:GetObject", Inputs{Resource: bucketPub, ResourceAccount: own}, allowed},

		// Explicit deny wins everywhere.
		{"deny in identity beats bucket allow", alice, "s3:GetObject", Inputs{Identity: []*Policy{idGet, idDenyGet}, Resource: bucketAl, ResourceAccount: own}, Decision{ExplicitDeny: true, DeniedBy: DeniedByIdentity}},
		{"deny in bucket policy beats identity allow", alice, "s3:GetObject", Inputs{Identity: []*Policy{idGet}, Resource: bucketDeny, ResourceAccount: own}, Decision{ExplicitDeny: true, DeniedBy: DeniedByResource}},
		{"deny in bucket policy binds the root", root, "s3:GetObject", Inputs{IdentityAll: true, Resource: bucketDeny, ResourceAccount: own}, Decision{ExplicitDeny: true, DeniedBy: DeniedByResource}},
		{"deny in session policy", session, "s3:GetObject", Inputs{Identity: []*Policy{idGet}, Session: []*Policy{sessDeny}, ResourceAccount: own}, Decision{ExplicitDeny: true, DeniedBy: DeniedBySession}},
		{"deny beats a grant", alice, "kms:Decrypt", Inputs{Identity: []*Policy{idDenyKMS}, Resource: keyDefault, ResourceAccount: own, ResourceAuthoritative: true, GrantAllows: true}, Decision{ExplicitDeny: true, DeniedBy: DeniedByIdentity}},
		{"key policy deny beats its allow", alice, "kms:Decrypt", Inputs{Identity: []*Policy{idKMS}, Resource: keyDeny, ResourceAccount: own, ResourceAuthoritative: true}, Decision{ExplicitDeny: true, DeniedBy: DeniedByResource}},

		// Across accounts both sides must allow.
		{"cross account: bucket names the account, identity allows", bob, "s3:GetObject", Inputs{Identity: []*Policy{idGet}, Resource: bucketBobA, ResourceAccount: own}, allowed},
		{"cross account: bucket names the user, identity allows", bob, "s3:GetObject", Inputs{Identity: []*Policy{idGet}, Resource: bucketBob, ResourceAccount: own}, allowed},
		{"cross account: bucket names the user, no identity allow", bob, "s3:GetObject", Inputs{Resource: bucketBob, ResourceAccount: own}, noIdentity},
		{"cross account: identity allows, no bucket policy", bob, "s3:GetObject", Inputs{Identity: []*Policy{idGet}, ResourceAccount: own}, noResource},
		{"cross account: identity allows, bucket names another account", bob, "s3:GetObject", Inputs{Identity: []*Policy{idGet}, Resource: bucketOwn, ResourceAccount: own}, noResource},
		{"cross account: public bucket still needs identity", bob, "s3:GetObject", Inputs{Resource: bucketPub, ResourceAccount: own}, noIdentity},
		{"cross account: role session via account", xsess, "s3:GetObject", Inputs{Identity: []*Policy{idGet}, Resource: bucketBobA, ResourceAccount: own}, allowed},

		// Session policies limit the identity side.
		{"session: identity and session allow", session, "s3:GetObject", Inputs{Identity: []*Policy{idGet}, Session: []*Policy{sessGet}, ResourceAccount: own}, allowed},
		{"session: session policy allows another action", session, "s3:GetObject", Inputs{Identity: []*Policy{idGet}, Session: []*Policy{sessPut}, ResourceAccount: own}, noSession},
		{"session: session policy alone grants nothing", session, "s3:GetObject", Inputs{Session: []*Policy{sessGet}, ResourceAccount: own}, noIdentity},
		{"session: no session policy, identity allows", session, "s3:GetObject", Inputs{Identity: []*Policy{idGet}, ResourceAccount: own}, allowed},
		{"session: bucket names the session: not limited", session, "s3:GetObject", Inputs{Session: []*Policy{sessPut}, Resource: bucketSess, ResourceAccount: own}, allowed},
		{"session: bucket names the role: limited", session, "s3:GetObject", Inputs{Session: []*Policy{sessPut}, Resource: bucketRole, ResourceAccount: own}, noSession},
		{"session: bucket names the role, session allows", session, "s3:GetObject", Inputs{Session: []*Policy{sessGet}, Resource: bucketRole, ResourceAccount: own}, allowed},
		{"session: bucket names the role, no session policy", session, "s3:GetObject", Inputs{Resource: bucketRole, ResourceAccount: own}, allowed},

		// Anonymous: only a resource policy allowing "*".
		{"anonymous: public bucket", anon, "s3:GetObject", Inputs{Resource: bucketPub, ResourceAccount: own}, allowed},
		{"anonymous: AWS star", anon, "s3:GetObject", Inputs{Resource: bucketPubA, ResourceAccount: own}, allowed},
		{"anonymous: no policy", anon, "s3:GetObject", Inputs{ResourceAccount: own}, noResource},
		{"anonymous: account principal", anon, "s3:GetObject", Inputs{Resource: bucketOwn, ResourceAccount: own}, noResource},
		{"anonymous: public bucket, other action", anon, "s3:PutObject", Inputs{Resource: bucketPub, ResourceAccount: own}, noResource},
		{"anonymous: IdentityAll ignored", anon, "s3:GetObject", Inputs{IdentityAll: true, ResourceAccount: own}, noResource},

		// KMS: the key policy is authoritative.
		{"kms: default policy delegates, IAM allows", alice, "kms:Decrypt", Inputs{Identity: []*Policy{idKMS}, Resource: keyDefault, ResourceAccount: own, ResourceAuthoritative: true}, allowed},
		{"kms: default policy delegates, no IAM allow", alice, "kms:Decrypt", Inputs{Resource: keyDefault, ResourceAccount: own, ResourceAuthoritative: true}, noIdentity},
		{"kms: root under the default policy", root, "kms:Decrypt", Inputs{Resource: keyDefault, ResourceAccount: own, ResourceAuthoritative: true}, allowed},
		{"kms: key policy names the user", alice, "kms:Decrypt", Inputs{Resource: keyAlice, ResourceAccount: own, ResourceAuthoritative: true}, allowed},
		{"kms: no delegation, IAM allows: denied", alice, "kms:Decrypt", Inputs{Identity: []*Policy{idKMS}, Resource: keyNone, ResourceAccount: own, ResourceAuthoritative: true}, noResource},
		{"kms: no delegation, grant allows", alice, "kms:Decrypt", Inputs{Resource: keyNone, ResourceAccount: own, ResourceAuthoritative: true, GrantAllows: true}, allowed},
		{"kms: grant alone, cross account", bob, "kms:Decrypt", Inputs{Resource: keyNone, ResourceAccount: own, ResourceAuthoritative: true, GrantAllows: true}, allowed},
		{"kms: cross account delegated, IAM allows", bob, "kms:Decrypt", Inputs{Identity: []*Policy{idKMS}, Resource: keyCross, ResourceAccount: own, ResourceAuthoritative: true}, allowed},
		{"kms: cross account delegated, no IAM", bob, "kms:Decrypt", Inputs{Resource: keyCross, ResourceAccount: own, ResourceAuthoritative: true}, noIdentity},
		{"kms: cross account user named, still needs IAM", bob, "kms:Decrypt", Inputs{Resource: keyBob, ResourceAccount: own, ResourceAuthoritative: true}, noIdentity},
		{"kms: cross account user named, IAM allows", bob, "kms:Decrypt", Inputs{Identity: []*Policy{idKMS}, Resource: keyBob, ResourceAccount: own, ResourceAuthoritative: true}, allowed},
		{"kms: cross account, key policy silent", bob, "kms:Decrypt", Inputs{Identity: []*Policy{idKMS}, Resource: keyDefault, ResourceAccount: own, ResourceAuthoritative: true}, noResource},
		{"kms: IdentityAll does not bypass the key policy", alice, "kms:Decrypt", Inputs{IdentityAll: true, Resource: keyNone, ResourceAccount: own, ResourceAuthoritative: true}, noResource},
		{"kms: session limited", session, "kms:Decrypt", Inputs{Identity: []*Policy{idKMS}, Session: []*Policy{sessGet}, Resource: keyDefault, ResourceAccount: own, ResourceAuthoritative: true}, noSession},
		{"nil policies are not applicable", alice, "s3:GetObject", Inputs{Identity: []*Policy{nil, idGet}, Session: []*Policy{nil}, ResourceAccount: own}, noSession},
		{"kms: no key policy at all", alice, "kms:Decrypt", Inputs{Identity: []*Policy{idKMS}, ResourceAccount: own, ResourceAuthoritative: true}, noResource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Request{Principal: tt.principal, Action: tt.action, Resource: "arn:aws:s3:::b/k"}
			if got := Decide(r, tt.in); got != tt.want {
				t.Errorf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDeniedMessage(t *testing.T) {
	const who, what, on = "arn:aws:iam::111122223333:user/alice", "s3:PutObject", "arn:aws:s3:::b/k"
	cases := []struct {
		name     string
		explicit bool
		kind     string
		want     string
	}{
		{"explicit deny in a resource policy", true, DeniedByResource,
			"User: " + who + " is not authorized to perform: s3:PutObject on resource: " + on + " with an explicit deny in a resource-based policy"},
		{"explicit deny in an identity policy", true, DeniedByIdentity,
			"User: " + who + " is not authorized to perform: s3:PutObject on resource: " + on + " with an explicit deny in an identity-based policy"},
		{"explicit deny in a session policy", true, DeniedBySession,
			"User: " + who + " is not authorized to perform: s3:PutObject on resource: " + on + " with an explicit deny in a session policy"},
		{"no allow", false, DeniedByIdentity,
			"User: " + who + " is not authorized to perform: s3:PutObject on resource: " + on + " because no identity-based policy allows the s3:PutObject action"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := DeniedMessage(who, what, on, tc.explicit, tc.kind); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
